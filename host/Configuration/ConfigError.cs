namespace PluginProxy.Host.Configuration;

/// <summary>One problem found in the configuration: where it is, and what is wrong (and what would be right).</summary>
internal sealed record ConfigError(SourceSpot Where, string Message)
{
    public override string ToString() => $"{Where}: {Message}";
}
