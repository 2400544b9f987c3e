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
}
