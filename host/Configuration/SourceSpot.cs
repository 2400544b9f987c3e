namespace PluginProxy.Host.Configuration;

/// <summary>A place in a configuration or script file, 1-based, printed as <c>file:line:column</c>.</summary>
internal readonly record struct SourceSpot(string File, int Line, int Column)
{
    public override string ToString() => $"{File}:{Line}:{Column}";
}
