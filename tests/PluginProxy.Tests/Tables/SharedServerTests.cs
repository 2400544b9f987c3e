using Microsoft.Extensions.Logging.Abstractions;
using PluginProxy.Host.Configuration;
using PluginProxy.Host.Stores;
using PluginProxy.Host.Tables;

namespace PluginProxy.Tests.Tables;

/// <summary>
/// How a shared table's entry settles on one server when instances disagree: the latest stamp wins, a tie goes to the
/// greater instance name, and a server set here is stamped after any heard of; and how shared keys and values read back.
/// </summary>
public class SharedServerTests
{
    private static StickTable SharedTable(string origin)
    {
        var table = new StickTable(new StickTableConfig("users", "header:X-User", 100, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(10), new SourceSpot("proxy.toml", 1, 1)));
        var store = new SharedStore(new StoreConfig("shared", "redis", "127.0.0.1:1", null, "p:", TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1), false,
            new SourceSpot("proxy.toml", 1, 1)), NullLogger.Instance);
        table.UseStore(store, origin);
        return table;
    }

    [Fact]
    public void TheLatestStampWins_AndALocalChangeComesAfterAnyHeardOf()
    {
        StickTable table = SharedTable("m");
        StickEntry entry = table.Track("bob", null);
        entry.Server = "app/s1";
        long later = table.Share!.Now + 3_600_000; // another instance whose clock runs an hour ahead

        Assert.True(entry.ApplyShared("app/s2", 1, "z")); // stale: the caller shares this entry's server again
        Assert.Equal("app/s1", entry.Server);
        Assert.False(entry.ApplyShared("app/s2", later, "b"));
        Assert.Equal("app/s2", entry.Server);
        Assert.False(entry.ApplyShared("app/s2", later, "b")); // the same change again

        entry.Server = "app/s3"; // stamped later + 1
        entry.ApplyShared("app/s2", later, "z");
        Assert.Equal("app/s3", entry.Server);
        entry.ApplyShared("app/s4", later + 1, "a");
        Assert.Equal("app/s3", entry.Server);
        entry.ApplyShared("app/s5", later + 1, "z");
        Assert.Equal("app/s5", entry.Server);
        entry.ApplyShared(null, later + 2, "b");
        Assert.Null(entry.Server);
    }

    [Fact]
    public void AReceivedServer_CreatesTheEntry_WithoutCountingARequest()
    {
        StickTable table = SharedTable("m");
        table.ApplyShared("carol", "app/s2", 5, "b");
        var entry = (StickEntry)table.Find("carol")!;
        Assert.Equal("app/s2", entry.Server);
        Assert.Equal(0, entry.Requests);
    }

    [Fact]
    public void CountingAndReadingAnExistingEntry_AllocatesNothing()
    {
        StickTable table = SharedTable("m");
        StickEntry entry = table.Track("bob", null);
        entry.CountRequest();
        entry.CountError();
        _ = entry.RequestRate + entry.ErrorRate;
        long before = GC.GetAllocatedBytesForCurrentThread();
        double sum = 0;
        for (int i = 0; i < 1000; i++)
        {
            StickEntry found = table.Track("bob".AsSpan(), null);
            found.CountRequest();
            found.CountError();
            sum += found.RequestRate + found.ErrorRate;
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(sum > 0);
    }

    [Theory]
    [InlineData("st:users\nplain", "users", "plain")]
    [InlineData("st:users\na; b=\"c\"\nd", "users", "a; b=\"c\"\nd")]
    [InlineData("st:users\n", "users", "")]
    public void ASharedKey_ReadsBack(string key, string table, string entryKey)
    {
        Assert.True(TableShare.TryParseKey(key, out string readTable, out string readKey));
        Assert.Equal((table, entryKey), (readTable, readKey));
    }

    [Theory]
    [InlineData("ratelimit:x")]
    [InlineData("st:users")]
    public void AnotherKey_IsNotAStickTables(string key) => Assert.False(TableShare.TryParseKey(key, out _, out _));

    [Theory]
    [InlineData("12 abc app/s1", 12L, "abc", "app/s1")]
    [InlineData("12 abc app/a b", 12L, "abc", "app/a b")]
    [InlineData("12 abc ", 12L, "abc", null)]
    public void ASharedServer_ReadsBack(string value, long stamp, string origin, string? server)
    {
        Assert.True(TableShare.TryParseServer(value, out long readStamp, out string readOrigin, out string? readServer));
        Assert.Equal((stamp, origin, server), (readStamp, readOrigin, readServer));
    }

    [Theory]
    [InlineData("")]
    [InlineData("12")]
    [InlineData("12 abc")]
    [InlineData("-1 abc app/s1")]
    [InlineData("x abc app/s1")]
    public void AMalformedServer_IsRefused(string value) => Assert.False(TableShare.TryParseServer(value, out _, out _, out _));
}
