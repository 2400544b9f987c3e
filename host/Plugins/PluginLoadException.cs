namespace PluginProxy.Host.Plugins;

/// <summary>A plugin folder that cannot be used: the path it concerns and what is wrong with it.</summary>
internal sealed class PluginLoadException(string path, string message, Exception? inner = null)
    : Exception($"{path}: {message}", inner)
{
    public string PluginPath { get; } = path;
}
