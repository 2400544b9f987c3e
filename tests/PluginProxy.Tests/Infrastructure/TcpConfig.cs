namespace PluginProxy.Tests.Infrastructure;

/// <summary>Builds a proxy.toml with one tcp listener on an ephemeral port and one backend.</summary>
internal static class TcpConfig
{
    public static string For(IEnumerable<string> serverAddresses, string listenerExtra = "", string backendExtra = "", string defaults = "") => $"""
        {RunningProxy.GlobalSection()}
        [defaults]
        {defaults}

        [[listener]]
        name = "tcp-in"
        bind = ["127.0.0.1:0"]
        supervisor = "tcp"
        accept = ["nodelay"]
        backend = "app"
        {listenerExtra}

        [[backend]]
        name = "app"
        servers = [{string.Join(", ", serverAddresses.Select((a, i) => $"{{ name = \"s{i + 1}\", address = \"{a}\" }}"))}]
        {backendExtra}
        """;

    public static string For(params string[] serverAddresses) => For(serverAddresses, "");

    /// <summary>Points the configuration's plugins folder at the test plugins (the built-in ones are found anyway).</summary>
    public static string WithTestPlugins(this string toml) =>
        toml.Replace($"plugins = \"{RepoPaths.PluginsBin}\"", $"plugins = \"{RepoPaths.TestPluginsBin}\"");
}
