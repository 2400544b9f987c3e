namespace PluginProxy.Tests.Infrastructure;

/// <summary>A temporary scripts folder and a configuration that uses it, for tests that write their own scripts.</summary>
internal sealed class ScriptFolder : IDisposable
{
    private readonly TempDirectory _directory = new();

    public string Path => _directory.Path;

    public string Write(string name, string text) => _directory.Write(name, text);

    /// <summary>An http listener with the given analyzers, in front of <paramref name="originAddress"/>.</summary>
    public string Config(string originAddress, string listenerExtra, bool hotReload = false, string extra = "") => $$"""
        [global]
        plugins = "{{RepoPaths.PluginsBin}}"
        scripts = "{{Path}}"
        script_cache = "{{RepoPaths.ScriptCache}}"
        hot_reload = {{(hotReload ? "true" : "false")}}

        [[listener]]
        name = "web"
        bind = ["127.0.0.1:0"]
        supervisor = "http"
        backend = "app"
        {{listenerExtra}}

        [[backend]]
        name = "app"
        servers = [{ name = "origin", address = "{{originAddress}}" }]
        {{extra}}
        """;

    public void Dispose() => _directory.Dispose();
}
