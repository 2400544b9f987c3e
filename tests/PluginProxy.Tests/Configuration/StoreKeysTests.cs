using PluginProxy.Host.Configuration;
using PluginProxy.Host.Stores;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Configuration;

/// <summary>The keys of <c>[[store]]</c>: each bad value is refused at its place with what would be right.</summary>
public class StoreKeysTests
{
    private const string Rest = """


        [[listener]]
        name = "web"
        bind = ["127.0.0.1:8080"]
        supervisor = "http"
        backend = "app"

        [[backend]]
        name = "app"
        servers = [{ name = "a", address = "127.0.0.1:9001" }]
        """;

    private static ProxyConfig Parse(string toml) => ConfigLoader.Parse(toml, "proxy.toml", "/etc/pluginproxy");

    private static string Error(string toml) => Assert.Single(Assert.Throws<ConfigException>(() => Parse(toml)).Errors).ToString();

    [Fact]
    public void EveryKey_IsBound_AndTheDefaultsAreThoseDocumented()
    {
        ProxyConfig config = Parse("""
            [[store]]
            name = "shared"
            kind = "redis"
            address = "redis.internal"

            [[store]]
            name = "eu"
            kind = "redis"
            address = "10.0.0.5:6380"
            prefix = "eu-prod:"
            sync_interval = "250ms"
            timeout = "500ms"
            on_store_failure = "closed"
            """ + Rest);

        StoreConfig shared = config.Stores[0];
        Assert.Equal(("shared", "redis", "redis.internal:6379", "pluginproxy:"), (shared.Name, shared.Kind, shared.Address, shared.Prefix));
        Assert.Equal((TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1), false), (shared.SyncInterval, shared.Timeout, shared.FailClosed));
        Assert.Null(shared.PasswordFile);
        StoreConfig eu = config.Stores[1];
        Assert.Equal(("10.0.0.5:6380", "eu-prod:"), (eu.Address, eu.Prefix));
        Assert.Equal((TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(500), true), (eu.SyncInterval, eu.Timeout, eu.FailClosed));
        Assert.Equal(["shared", "eu"], config.Listeners[0].Settings.StoreNames);
    }

    [Theory]
    [InlineData("kind = \"redis\"\naddress = \"127.0.0.1:6379\"", "proxy.toml:1:3: [[store]] needs `name`")]
    [InlineData("name = \"s\"\naddress = \"127.0.0.1:6379\"", "proxy.toml:1:3: store \"s\" needs `kind`")]
    [InlineData("name = \"s\"\nkind = \"redis\"", "proxy.toml:1:3: store \"s\" needs `address`")]
    [InlineData("name = \"s\"\nkind = \"memcached\"\naddress = \"127.0.0.1:6379\"",
        "proxy.toml:3:8: `kind` \"memcached\" is unknown; the one kind of store is \"redis\"")]
    [InlineData("name = \"s\"\nkind = \"redis\"\naddress = \"127.0.0.1:99999\"",
        "proxy.toml:4:11: `address` \"127.0.0.1:99999\": the port must be a number from 1 to 65535, such as \"127.0.0.1:6379\"")]
    [InlineData("name = \"s\"\nkind = \"redis\"\naddress = \"127.0.0.1:redis\"",
        "proxy.toml:4:11: `address` \"127.0.0.1:redis\": the port must be a number from 1 to 65535")]
    [InlineData("name = \"s\"\nkind = \"redis\"\naddress = \":6379\"",
        "proxy.toml:4:11: `address` \":6379\" is not a host:port")]
    [InlineData("name = \"s\"\nkind = \"redis\"\naddress = \"::1\"",
        "proxy.toml:4:11: `address` \"::1\": write an IPv6 address in brackets, such as \"[::1]:6379\"")]
    [InlineData("name = \"s\"\nkind = \"redis\"\naddress = 6379",
        "proxy.toml:4:11: `address` must be")]
    [InlineData("name = \"s\"\nkind = \"redis\"\naddress = \"127.0.0.1\"\non_store_failure = \"fail\"",
        "proxy.toml:5:20: `on_store_failure` \"fail\" is unknown; use \"open\"")]
    [InlineData("name = \"s\"\nkind = \"redis\"\naddress = \"127.0.0.1\"\nsync_interval = \"5ms\"",
        "proxy.toml:5:17: `sync_interval` must be at least 10ms, not \"5ms\"")]
    [InlineData("name = \"s\"\nkind = \"redis\"\naddress = \"127.0.0.1\"\nsync_interval = \"2m\"",
        "proxy.toml:5:17: `sync_interval` \"2m\" is longer than a minute")]
    [InlineData("name = \"s\"\nkind = \"redis\"\naddress = \"127.0.0.1\"\nsync_interval = \"fast\"",
        "proxy.toml:5:17: `sync_interval`: ")]
    [InlineData("name = \"s\"\nkind = \"redis\"\naddress = \"127.0.0.1\"\ntimeout = \"1ms\"",
        "proxy.toml:5:11: `timeout` must be at least 10ms, not \"1ms\"")]
    [InlineData("name = \"s\"\nkind = \"redis\"\naddress = \"127.0.0.1\"\nsync = \"1s\"",
        "proxy.toml:5:1: unknown key `sync` in store \"s\"; known keys are: name, kind, address, password_file")]
    public void BadValue_IsRefusedAtItsPlace(string lines, string expected)
    {
        string error = Error("[[store]]\n" + lines + Rest);
        Assert.True(error.StartsWith(expected, StringComparison.Ordinal), $"expected \"{expected}...\", got \"{error}\"");
    }

    [Fact]
    public void DuplicateName_IsRefusedAtTheSecond_NamingTheFirst() =>
        Assert.Equal("proxy.toml:6:8: store \"s\" is already defined at proxy.toml:2:8; store names must be unique",
            Error("[[store]]\nname = \"s\"\nkind = \"redis\"\naddress = \"127.0.0.1\"\n[[store]]\nname = \"s\"\nkind = \"redis\"\naddress = \"127.0.0.2\"" + Rest));

    [Fact]
    public void StickTableNamingAnUnknownStore_IsRefused_WithASuggestion() =>
        Assert.Equal("proxy.toml:9:9: stick_table \"t\" `store` names store \"shard\", which is not defined; did you mean \"shared\"?",
            Error("[[store]]\nname = \"shared\"\nkind = \"redis\"\naddress = \"127.0.0.1\"\n\n[[stick_table]]\nname = \"t\"\nkey = \"source\"\nstore = \"shard\"" + Rest));

    [Fact]
    public void PasswordFile_Missing_IsRefusedAtTheKey()
    {
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", "[[store]]\nname = \"s\"\nkind = \"redis\"\naddress = \"127.0.0.1\"\npassword_file = \"redis.password\"" + Rest);

        ConfigException error = Assert.Throws<ConfigException>(() => ConfigMaterializer.Load(path));

        string expected = $"{path}:5:17: `password_file`: cannot read {Path.Combine(directory.Path, "redis.password")}";
        Assert.StartsWith(expected, Assert.Single(error.Errors).ToString());
    }

    [SkippableFact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void PasswordFile_ReadableByOthers_IsRefused_SayingHowToFixIt()
    {
        Skip.If(OperatingSystem.IsWindows(), "file modes are POSIX");
        using var directory = new TempDirectory();
        string secret = directory.Write("redis.password", "s3cret\n");
        File.SetUnixFileMode(secret, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        string path = directory.Write("proxy.toml", "[[store]]\nname = \"s\"\nkind = \"redis\"\naddress = \"127.0.0.1\"\npassword_file = \"redis.password\"" + Rest);

        ConfigException error = Assert.Throws<ConfigException>(() => ConfigMaterializer.Load(path));

        Assert.Equal($"{path}:5:17: `password_file`: {secret} can be read by other users; make it private with: chmod 600 {secret}", Assert.Single(error.Errors).ToString());

        File.SetUnixFileMode(secret, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using MaterializedConfig loaded = ConfigMaterializer.Load(path);
        Assert.Equal("s3cret", loaded.Config.Stores[0].Password);
    }

    [Fact]
    public async Task Check_OfAConfigurationWithAStore_PassesWithoutConnectingToIt()
    {
        // A socket that listens and counts who connects: the check must not (the server may not exist where it runs).
        using var server = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        server.Start();
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", $"""
            [global]
            plugins = "{RepoPaths.PluginsBin}"

            [[store]]
            name = "shared"
            kind = "redis"
            address = "{server.LocalEndpoint}"

            [[stick_table]]
            name = "clients"
            key = "source"
            store = "shared"
            """ + Rest.Replace("127.0.0.1:8080", "127.0.0.1:0"));

        var (code, output) = await ProxyProcess.RunAsync("check", "--config", path);

        Assert.True(code == 0, output);
        Assert.Contains("configuration is valid", output);
        Assert.False(server.Pending(), "the check connected to the store's server");
    }
}
