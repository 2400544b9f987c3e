using Microsoft.Extensions.Logging.Abstractions;
using PluginProxy.Abstractions.Stores;
using PluginProxy.Host.Configuration;
using PluginProxy.Host.Stores;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Stores;

/// <summary>Two stores on one real redis-server play two proxy instances: counts add up, and a store that loses the server counts alone.</summary>
public class SharedStoreTests
{
    private static SharedStore NewStore(RedisServer redis, string prefix, TimeSpan? sync = null) =>
        new(new StoreConfig("shared", "redis", redis.Address, null, prefix, sync ?? TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(500), false,
            new SourceSpot("proxy.toml", 1, 1)), NullLogger.Instance);

    /// <summary>A redis-server and two stores on it (two instances), both up.</summary>
    private sealed class Pair : IAsyncDisposable
    {
        public required RedisServer Redis { get; init; }

        public required SharedStore A { get; init; }

        public required SharedStore B { get; init; }

        public required string Prefix { get; init; }

        public static async Task<Pair> StartAsync()
        {
            RedisServer redis = await RedisServer.StartAsync();
            string prefix = $"t{Guid.NewGuid():N}:";
            var pair = new Pair { Redis = redis, A = NewStore(redis, prefix), B = NewStore(redis, prefix), Prefix = prefix };
            pair.A.Start();
            pair.B.Start();
            await Wait.UntilAsync(() => pair.A.State == StoreState.Up && pair.B.State == StoreState.Up, "both stores up");
            return pair;
        }

        public async ValueTask DisposeAsync()
        {
            await A.DisposeAsync();
            await B.DisposeAsync();
            await Redis.DisposeAsync();
        }
    }

    [SkippableFact]
    public async Task Counters_AddUpAcrossInstances()
    {
        Skip.If(RedisServer.Program is null, RedisServer.Missing);
        await using Pair pair = await Pair.StartAsync();
        (RedisServer redis, SharedStore a, SharedStore b) = (pair.Redis, pair.A, pair.B);
        ISharedCounter onA = a.Counter("client:1", TimeSpan.FromMinutes(10));
        ISharedCounter onB = b.Counter("client:1", TimeSpan.FromMinutes(10));

        onA.Increment(30);
        onB.Increment(12);
        Assert.Equal(30, onA.LocalRate, 3);
        await Wait.UntilAsync(() => Math.Abs(onA.Rate - 42) < 0.5 && Math.Abs(onB.Rate - 42) < 0.5, "each instance seeing both counts");
        Assert.Equal(12, onB.LocalRate, 3);
    }

    [SkippableFact]
    public async Task ServerKilled_CountsStayLocal_ThenSharingResumes()
    {
        Skip.If(RedisServer.Program is null, RedisServer.Missing);
        await using Pair pair = await Pair.StartAsync();
        (RedisServer redis, SharedStore a, SharedStore b) = (pair.Redis, pair.A, pair.B);

        redis.Kill();
        await Wait.UntilAsync(() => a.State == StoreState.Down && b.State == StoreState.Down, "both stores down");
        ISharedCounter onA = a.Counter("k", TimeSpan.FromMinutes(10));
        ISharedCounter onB = b.Counter("k", TimeSpan.FromMinutes(10));
        Assert.Equal(5, onA.Increment(5), 3);
        Assert.Equal(7, onB.Increment(7), 3);

        await redis.RestartAsync();
        var back = System.Diagnostics.Stopwatch.StartNew();
        await Wait.UntilAsync(() => a.State == StoreState.Up && b.State == StoreState.Up, "both stores up again", TimeSpan.FromSeconds(5));
        Assert.True(back.Elapsed < TimeSpan.FromSeconds(2), $"sharing resumed {back.Elapsed.TotalMilliseconds:F0} ms after the server came back");
        // What each counted while the server was away is sent once it is back.
        await Wait.UntilAsync(() => Math.Abs(onA.Rate - 12) < 0.5 && Math.Abs(onB.Rate - 12) < 0.5, "the counts of the outage shared");
    }

    [SkippableFact]
    public async Task Values_ReachTheOtherInstance_AndOneThatStartsLater()
    {
        Skip.If(RedisServer.Program is null, RedisServer.Missing);
        await using Pair pair = await Pair.StartAsync();
        (RedisServer redis, SharedStore a, SharedStore b) = (pair.Redis, pair.A, pair.B);
        var onB = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();
        b.ValueReceived = (k, v) => onB[k] = v;

        a.ShareValue("web:alice", "s2", TimeSpan.FromMinutes(1));
        await Wait.UntilAsync(() => onB.TryGetValue("web:alice", out string? s) && s == "s2", "b learning alice's server");

        await using SharedStore late = NewStore(redis, pair.Prefix);
        var onLate = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();
        late.ValueReceived = (k, v) => onLate[k] = v;
        late.Start();
        await Wait.UntilAsync(() => onLate.TryGetValue("web:alice", out string? s) && s == "s2", "an instance started later learning it from the server");
    }

    [SkippableFact]
    public async Task ServerPaused_GoesDown_AndWhatWasSentIsNeverCountedTwice()
    {
        Skip.If(RedisServer.Program is null, RedisServer.Missing);
        await using Pair pair = await Pair.StartAsync();
        (RedisServer redis, SharedStore a, SharedStore b) = (pair.Redis, pair.A, pair.B);
        ISharedCounter onA = a.Counter("k", TimeSpan.FromMinutes(10));
        ISharedCounter onB = b.Counter("k", TimeSpan.FromMinutes(10));

        redis.Pause();
        try
        {
            onA.Increment(5); // sent by an exchange the paused server holds without answering
            await Wait.UntilAsync(() => a.State == StoreState.Down, "the silent server seen as down");
            onA.Increment(3); // counted while down: sent once the server answers a PING again
        }
        finally
        {
            redis.Resume();
        }

        await Wait.UntilAsync(() => a.State == StoreState.Up && b.State == StoreState.Up, "both stores up again");
        await Wait.UntilAsync(() => Math.Abs(onB.Rate - 8) < 0.5, "the other instance seeing every count once");
        (long onAExchanges, long onBExchanges) = (a.Exchanges, b.Exchanges);
        await Wait.UntilAsync(() => a.Exchanges >= onAExchanges + 3 && b.Exchanges >= onBExchanges + 3, "a few more exchanges");
        Assert.Equal(8, onB.Rate, 0.5);
    }
}
