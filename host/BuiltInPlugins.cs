namespace PluginProxy.Host;

/// <summary>
/// Finds the folder of the plugins that ship with PluginProxy (tcp, http, https, compression), so that listeners can name them
/// whatever `plugins` folder the configuration points at.
/// </summary>
internal static class BuiltInPlugins
{
    /// <summary>Set to a folder to override where built-in plugins are looked for.</summary>
    public const string EnvironmentVariable = "PLUGINPROXY_BUILTIN_PLUGINS";

    /// <summary>
    /// The plugin folders that are built in. Only these load from the built-in folder: a clone's plugins/bin also holds
    /// the sample plugins (RateLimit), which load only from a `plugins` folder the configuration names.
    /// </summary>
    public static readonly IReadOnlySet<string> Names = new HashSet<string>(StringComparer.Ordinal) { "PluginProxy.Tcp", "PluginProxy.Http", "PluginProxy.Https", "PluginProxy.Compression" };

    public static string? FindFolder()
    {
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } configured)
        {
            return Path.GetFullPath(configured);
        }

        // A published host carries them next to itself; a host run from a clone finds the repository's plugins/bin.
        string beside = Path.Combine(AppContext.BaseDirectory, "plugins");
        if (Directory.Exists(beside))
        {
            return beside;
        }

        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "plugins", "bin");
            if (Directory.Exists(candidate) && File.Exists(Path.Combine(dir.FullName, "PluginProxy.sln")))
            {
                return candidate;
            }
        }

        return null;
    }
}
