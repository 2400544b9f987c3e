namespace PluginProxy.Tests.Infrastructure;

/// <summary>Builds a proxy.toml with one http listener on an ephemeral port.</summary>
internal static class HttpConfig
{
    public static string For(string originAddress, string listenerExtra = "", string backendExtra = "", string extraSections = "", string defaults = "") => $$"""
        {{RunningProxy.GlobalSection(plugins: RepoPaths.TestPluginsBin)}}
        [defaults]
        {{defaults}}

        [[listener]]
        name = "web"
        bind = ["127.0.0.1:0"]
        supervisor = "http"
        backend = "app"
        {{listenerExtra}}

        [[backend]]
        name = "app"
        servers = [{ name = "origin", address = "{{originAddress}}" }]
        {{backendExtra}}
        {{extraSections}}
        """;

    /// <summary>
    /// An http listener "web" in front of backend "app" with the given servers; <paramref name="global"/> is the whole
    /// [global] table (the test [global] with <paramref name="globalExtra"/> when null).
    /// </summary>
    public static string WithServers(IEnumerable<(string Name, string Address, int Weight)> servers, string globalExtra = "", string backendExtra = "", string? global = null) => $$"""
        {{global ?? RunningProxy.GlobalSection(globalExtra)}}

        [[listener]]
        name = "web"
        bind = ["127.0.0.1:0"]
        supervisor = "http"
        backend = "app"

        [[backend]]
        name = "app"
        servers = [{{string.Join(", ", servers.Select(s => $"{{ name = \"{s.Name}\", address = \"{s.Address}\", weight = {s.Weight} }}"))}}]
        {{backendExtra}}
        """;
}
