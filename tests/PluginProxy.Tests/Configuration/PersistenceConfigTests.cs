using PluginProxy.Abstractions;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Tests.Configuration;

/// <summary>The keys of consistent hashing and persistence: hash_key, cookie, stick_table, track, [[stick_table]].</summary>
public class PersistenceConfigTests
{
    private const string Listener = """
        [[listener]]
        name = "web"
        bind = ["127.0.0.1:8080"]
        supervisor = "http"
        backend = "app"

        """;

    private const string Backend = """

        [[backend]]
        name = "app"
        servers = [{ name = "a", address = "127.0.0.1:9001" }]

        """;

    private static ProxyConfig Parse(string toml) => ConfigLoader.Parse(toml, "proxy.toml", "/etc/pluginproxy");

    private static string Error(string toml) => Assert.Single(Assert.Throws<ConfigException>(() => Parse(toml)).Errors).ToString();

    [Fact]
    public void EveryKey_IsBound()
    {
        ProxyConfig config = Parse("""
            [defaults]
            hash_key = "cookie:session"

            [[listener]]
            name = "web"
            bind = ["127.0.0.1:8080"]
            supervisor = "http"
            backend = "app"
            track = ["clients", "users"]

            [[backend]]
            name = "app"
            balance = "hash"
            servers = [{ name = "a", address = "127.0.0.1:9001" }]
            cookie = "SRV"
            stick_table = "users"

            [[backend]]
            name = "api"
            balance = "hash"
            hash_key = "header:X-User"
            servers = [{ name = "a", address = "127.0.0.1:9002" }]

            [[stick_table]]
            name = "clients"
            key = "source"

            [[stick_table]]
            name = "users"
            key = "header:X-User"
            size = 500
            expire = "30m"
            rate_period = "1m"

            [[listener]]
            name = "api"
            bind = ["127.0.0.1:8081"]
            supervisor = "http"
            backend = "api"
            """);

        BackendConfig app = config.Backends[0];
        Assert.Equal(BalanceAlgorithm.Hash, app.Balance);
        Assert.Equal((HashKeySource.Cookie, "session"), (app.HashKeySource, app.HashKeyName));
        Assert.Equal("SRV", app.Cookie);
        Assert.Equal("users", app.StickTable?.Name);
        Assert.Equal((HashKeySource.Header, "X-User"), (config.Backends[1].HashKeySource, config.Backends[1].HashKeyName));
        Assert.Equal(["clients", "users"], config.Listeners[0].Track.Select(t => t.Name));
        Assert.Equal(new StickTableConfig("clients", "source", 100_000, TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(10), new SourceSpot("proxy.toml", 25, 8)), config.StickTables[0]);
        Assert.Equal(("header:X-User", 500, TimeSpan.FromMinutes(30), TimeSpan.FromMinutes(1)),
            (config.StickTables[1].KeySpec, config.StickTables[1].Size, config.StickTables[1].Expire, config.StickTables[1].RatePeriod));
    }

    [Theory]
    [InlineData("balance = \"hash\"\nhash_key = \"body\"", "proxy.toml:11:12: `hash_key` \"body\" is unknown; use \"source\", \"uri\", \"header:<name>\", \"cookie:<name>\" or \"script\"")]
    [InlineData("balance = \"hash\"\nhash_key = \"header:\"", "proxy.toml:11:12: `hash_key` \"header:\" needs a header name after \"header:\" (letters, digits and !#$%&'*+-.^_`|~), such as \"header:X-User\"")]
    [InlineData("balance = \"hash\"\nhash_key = \"cookie:a b\"", "proxy.toml:11:12: `hash_key` \"cookie:a b\" needs a cookie name after \"cookie:\" (letters, digits and !#$%&'*+-.^_`|~), such as \"cookie:session\"")]
    [InlineData("hash_key = \"uri\"", "proxy.toml:10:12: `hash_key` applies to balance = \"hash\"; backend \"app\" balances otherwise")]
    [InlineData("balance = \"hashed\"", "proxy.toml:10:11: `balance` \"hashed\" is unknown; use one of roundrobin, leastconn, source, uri, random, hash")]
    [InlineData("cookie = \"S=1\"", "proxy.toml:10:10: `cookie` \"S=1\" is not a cookie name: use letters, digits and !#$%&'*+-.^_`|~, such as \"SRV\"")]
    [InlineData("stick_table = \"users\"", "proxy.toml:10:15: backend \"app\" `stick_table` names stick table \"users\", which is not defined; no [[stick_table]] is defined; add one, for example: [[stick_table]] name = \"clients\" key = \"source\"")]
    public void ABadBackendKey_IsRefusedAtItsValue(string line, string expected) =>
        Assert.Equal(expected, Error(Listener + Backend + line));

    [Fact]
    public void ABadDefaultsHashKey_IsRefusedAtItsValue() =>
        Assert.Equal("proxy.toml:2:12: `hash_key` \"ip\" is unknown; use \"source\", \"uri\", \"header:<name>\", \"cookie:<name>\" or \"script\"",
            Error("[defaults]\nhash_key = \"ip\"\n" + Listener + Backend));

    [Fact]
    public void AnUnknownTrackedTable_IsRefusedAtItsName_WithASuggestion() =>
        Assert.Equal("proxy.toml:6:21: listener \"web\" `track` names stick table \"client\", which is not defined; did you mean \"clients\"?",
            Error(Listener + "track = [\"clients\", \"client\"]\n" + Backend + "\n[[stick_table]]\nname = \"clients\"\nkey = \"source\"\n"));

    [Theory]
    [InlineData("key = \"src\"", "proxy.toml:3:7: `key` \"src\" is unknown; use \"source\", \"header:<name>\" or \"cookie:<name>\"")]
    [InlineData("key = \"uri\"", "proxy.toml:3:7: `key` \"uri\" is unknown; use \"source\", \"header:<name>\" or \"cookie:<name>\"")]
    [InlineData("key = \"source\"\nsize = 0", "proxy.toml:4:8: `size` must be from 1 to 100000000, not 0")]
    [InlineData("key = \"source\"\nexpire = \"10\"", "proxy.toml:4:10: `expire`: ")]
    [InlineData("key = \"source\"\nrate_period = \"1ms\"", "proxy.toml:4:15: `rate_period` must be at least 100ms, not \"1ms\"")]
    [InlineData("key = \"source\"\nsizes = 10", "proxy.toml:4:1: unknown key `sizes` in stick_table \"t\"; did you mean `size`?")]
    public void ABadStickTableKey_IsRefusedAtItsValue(string lines, string expected) =>
        Assert.StartsWith(expected, Error("[[stick_table]]\nname = \"t\"\n" + lines + "\n\n" + Listener + Backend));

    [Fact]
    public void AStickTableNeedsAKey_AndANameOfItsOwn()
    {
        Assert.Equal("proxy.toml:1:3: stick_table \"t\" needs `key` (\"source\", \"header:<name>\" or \"cookie:<name>\")",
            Error("[[stick_table]]\nname = \"t\"\n\n" + Listener + Backend));
        Assert.Equal("proxy.toml:5:8: stick_table \"t\" is already defined at proxy.toml:2:8; stick table names must be unique",
            Error("[[stick_table]]\nname = \"t\"\nkey = \"source\"\n[[stick_table]]\nname = \"t\"\nkey = \"source\"\n\n" + Listener + Backend));
    }

    [Fact]
    public void AStickTableStore_MustNameADefinedStore()
    {
        const string Store = "\n[[store]]\nname = \"shared\"\nkind = \"redis\"\naddress = \"127.0.0.1:6379\"\n";
        Assert.Equal("proxy.toml:4:9: stick_table \"t\" `store` names store \"share\", which is not defined; did you mean \"shared\"?",
            Error("[[stick_table]]\nname = \"t\"\nkey = \"source\"\nstore = \"share\"\n" + Store + Listener + Backend));
        Assert.Equal("shared", Assert.Single(Parse("[[stick_table]]\nname = \"t\"\nkey = \"source\"\nstore = \"shared\"\n" + Store + Listener + Backend).StickTables).Store!.Value.Name);
    }
}
