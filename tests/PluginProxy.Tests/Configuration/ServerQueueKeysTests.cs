using PluginProxy.Host.Configuration;

namespace PluginProxy.Tests.Configuration;

/// <summary>The keys of server queues, backups and slow starts: <c>maxconn</c>, <c>backup</c>, <c>slowstart</c>, <c>timeout_queue</c>.</summary>
public class ServerQueueKeysTests
{
    private const string Head = """
        [defaults]
        timeout_queue = "750ms"

        [[listener]]
        name = "web"
        bind = ["127.0.0.1:8080"]
        supervisor = "http"
        backend = "app"

        [[backend]]
        name = "app"

        """;

    private static ProxyConfig Parse(string toml) => ConfigLoader.Parse(toml, "proxy.toml", "/etc/pluginproxy");

    private static ConfigError Error(string servers) => Assert.Single(Assert.Throws<ConfigException>(() => Parse(Head + servers)).Errors);

    [Fact]
    public void Keys_AreBound_WithTheirDefaults()
    {
        ProxyConfig config = Parse(Head + """
            servers = [{ name = "a", address = "127.0.0.1:9001", maxconn = 2, slowstart = "30s" },
                       { name = "b", address = "127.0.0.1:9002", backup = true }]

            [[listener]]
            name = "other"
            bind = ["127.0.0.1:8081"]
            supervisor = "http"
            backend = "other"

            [[backend]]
            name = "other"
            timeout_queue = "2s"
            servers = [{ name = "a", address = "127.0.0.1:9001" }]
            """);

        BackendConfig app = config.Backends[0];
        Assert.Equal(TimeSpan.FromMilliseconds(750), app.Timeouts.Queue);
        Assert.Equal((2, false, TimeSpan.FromSeconds(30)), (app.Servers[0].MaxConn, app.Servers[0].Backup, app.Servers[0].SlowStart));
        Assert.Equal((0, true, TimeSpan.Zero), (app.Servers[1].MaxConn, app.Servers[1].Backup, app.Servers[1].SlowStart));
        Assert.Equal(TimeSpan.FromSeconds(2), config.Backends[1].Timeouts.Queue);
        Assert.Equal(TimeSpan.FromSeconds(5), Parse(Head.Replace("timeout_queue = \"750ms\"", "") + "servers = [{ name = \"a\", address = \"127.0.0.1:9001\" }]").Backends[0].Timeouts.Queue);
    }

    [Fact]
    public void NegativeMaxconn_IsRefusedAtItsValue()
    {
        ConfigError error = Error("""servers = [{ name = "a", address = "127.0.0.1:9001", maxconn = -1 }]""");
        Assert.Equal("proxy.toml:12:64: `maxconn` must be from 0 to 1000000, not -1", error.ToString());
    }

    [Fact]
    public void SlowstartThatIsNotADuration_IsRefusedAtItsValue()
    {
        ConfigError error = Error("""servers = [{ name = "a", address = "127.0.0.1:9001", slowstart = "soon" }]""");
        Assert.StartsWith("proxy.toml:12:66: `slowstart`: ", error.ToString());

        error = Error("""servers = [{ name = "a", address = "127.0.0.1:9001", slowstart = 30 }]""");
        Assert.StartsWith("proxy.toml:12:66: ", error.ToString());
        Assert.Contains("a duration string such as \"5s\"", error.Message);
    }

    [Fact]
    public void BackupThatIsNotABool_IsRefusedAtItsValue()
    {
        ConfigError error = Error("""servers = [{ name = "a", address = "127.0.0.1:9001", backup = "yes" }]""");
        Assert.StartsWith("proxy.toml:12:63: ", error.ToString());
        Assert.Contains("true or false", error.Message);
    }

    [Fact]
    public void TimeoutQueue_IsADuration()
    {
        ConfigError error = Assert.Single(Assert.Throws<ConfigException>(() => Parse(Head.Replace("\"750ms\"", "\"later\"") + """servers = [{ name = "a", address = "127.0.0.1:9001" }]""")).Errors);
        Assert.StartsWith("proxy.toml:2:17: `timeout_queue`: ", error.ToString());
    }
}
