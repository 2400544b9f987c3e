namespace PluginProxy.Host.Configuration;

/// <summary>Thrown when a configuration (with its plugins and scripts) cannot be used; carries every error found.</summary>
internal sealed class ConfigException : Exception
{
    public ConfigException(IReadOnlyList<ConfigError> errors)
        : base(string.Join(Environment.NewLine, errors))
    {
        Errors = errors;
    }

    public IReadOnlyList<ConfigError> Errors { get; }
}
