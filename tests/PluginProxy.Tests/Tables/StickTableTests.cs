using PluginProxy.Abstractions.Tables;
using PluginProxy.Host.Configuration;
using PluginProxy.Host.Tables;

namespace PluginProxy.Tests.Tables;

/// <summary>Stick tables with a clock the test drives: expiry, eviction of the least recently used, sliding rates, reloads.</summary>
public class StickTableTests
{
    private long _now = 1_000_000;

    private StickTable Make(int size = 100, string expire = "10s", string ratePeriod = "10s", string key = "source") =>
        new(Config("t", key, size, expire, ratePeriod), () => _now);

    private static StickTableConfig Config(string name, string key, int size = 100, string expire = "10s", string ratePeriod = "10s") =>
        new(name, key, size, Parse(expire), Parse(ratePeriod), new SourceSpot("proxy.toml", 1, 1));

    private static TimeSpan Parse(string text) => Units.TryParseDuration(text, out TimeSpan value, out _) ? value : throw new ArgumentException(text);

    [Fact]
    public void AnEntry_ExpiresAfterItsLastUse_AndTheSweepRemovesIt()
    {
        StickTable table = Make(expire: "10s");
        table.Track("a").CountRequest();
        _now += 6_000;
        table.Track("a");
        _now += 6_000;

        Assert.NotNull(table.Find("a"));
        Assert.Equal(0, table.Sweep());
        _now += 4_000;
        Assert.Null(table.Find("a"));
        Assert.Equal(1, table.Sweep());
        Assert.Equal(0, table.Count);
    }

    [Fact]
    public void AnExpiredKeyThatComesBack_BeforeTheSweep_StartsOver()
    {
        StickTable table = Make(expire: "1s");
        IStickEntry entry = table.Track("a");
        entry.CountRequest();
        entry.Server = "app/a";
        _now += 2_000;

        IStickEntry again = table.Track("a");
        Assert.Equal(0, again.Requests);
        Assert.Null(again.Server);
    }

    [Fact]
    public void AnEntryWithOpenConnections_NeverExpires()
    {
        StickTable table = Make(expire: "1s");
        table.Track("a").AddConnections(1);
        _now += 5_000;

        Assert.Equal(0, table.Sweep());
        Assert.NotNull(table.Find("a"));
    }

    [Fact]
    public void AFullTable_EvictsTheLeastRecentlyUsed()
    {
        StickTable table = Make(size: 3);
        table.Track("a");
        _now += 10;
        table.Track("b");
        _now += 10;
        table.Track("c");
        _now += 10;
        table.Track("a"); // a is now the most recently used; b the least
        _now += 10;

        table.Track("d");

        Assert.Equal(3, table.Count);
        Assert.Null(table.Find("b"));
        Assert.NotNull(table.Find("a"));
        Assert.NotNull(table.Find("c"));
        Assert.NotNull(table.Find("d"));
    }

    [Fact]
    public void ABigTable_StaysWithinItsSize()
    {
        StickTable table = Make(size: 1000);
        for (int i = 0; i < 5000; i++)
        {
            _now++;
            table.Track($"k{i}");
        }

        Assert.InRange(table.Count, 900, 1000);
        Assert.NotNull(table.Find("k4999"));
        Assert.Null(table.Find("k0"));
    }

    [Fact]
    public void Rates_SlideOverTheRatePeriod()
    {
        StickTable table = Make(ratePeriod: "10s");
        IStickEntry entry = table.Track("a");
        for (int i = 0; i < 10; i++)
        {
            entry.CountRequest();
        }

        entry.CountError();
        Assert.Equal(10, entry.RequestRate, 3);
        Assert.Equal(1, entry.ErrorRate, 3);

        // Half of the next period: half of the previous period's 10 still counts.
        _now += 15_000;
        Assert.Equal(5, entry.RequestRate, 3);
        entry.CountRequest();
        Assert.Equal(6, entry.RequestRate, 3);

        // Two periods later nothing is left of them, but the totals stay.
        _now += 20_000;
        Assert.Equal(0, entry.RequestRate, 3);
        Assert.Equal(11, entry.Requests);
        Assert.Equal(1, entry.Errors);
    }

    [Fact]
    public void AReload_KeepsATableWhoseNameAndKeyAreUnchanged_WithItsEntries()
    {
        var tables = new StickTables();
        StickTableConfig[] first = [Config("clients", "source"), Config("users", "header:X-User")];
        tables.Commit(tables.Prepare(first), first);
        tables.Find("clients")!.Track("10.0.0.1").CountRequest();
        tables.Find("users")!.Track("alice");

        StickTableConfig[] second = [Config("clients", "source", size: 50), Config("users", "cookie:user")];
        StickTableSet next = tables.Prepare(second);
        Assert.Equal(100, tables.Find("clients")!.Size); // nothing changes before the commit
        tables.Commit(next, second);

        Assert.Equal(1, tables.Find("clients")!.Find("10.0.0.1")!.Requests);
        Assert.Equal(50, tables.Find("clients")!.Size);
        Assert.Null(tables.Find("users")!.Find("alice"));
        Assert.Equal("cookie:user", tables.Find("users")!.KeySpec);
    }

    [Fact]
    public void PluginsAndScripts_GetTheTablesByInjection()
    {
        var tables = new StickTables();
        var host = new PluginProxy.Host.Plugins.PluginHostServices(Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance,
            new PluginProxy.Host.Backends.ServerConnector(Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance), new Infrastructure.CapturedAccessLog(), new object())
        {
            StickTables = tables,
        };
        var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection();
        host.AddTo(services);

        using var provider = Microsoft.Extensions.DependencyInjection.ServiceCollectionContainerBuilderExtensions.BuildServiceProvider(services);
        Assert.Same(tables, provider.GetService(typeof(IStickTables)));
    }
}
