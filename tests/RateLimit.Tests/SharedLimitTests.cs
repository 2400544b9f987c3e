using System.Net;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Options;
using PluginProxy.Abstractions.Stores;
using PluginProxy.TestKit;

namespace RateLimit.Tests;

/// <summary>The shared mode's decisions over a store of the test's own (the real one, on redis, is tested end to end in PluginProxy.Tests).</summary>
public class SharedLimitTests
{
    private static readonly IPAddress Client = IPAddress.Parse("192.0.2.7");

    private static ListenerSettings Shared(long requests) => TestSession.DefaultListener() with
    {
        Table = OptionTable.From(new Dictionary<string, object?>
        {
            ["options"] = new Dictionary<string, object?> { ["rate_limit"] = new Dictionary<string, object?> { ["requests"] = requests, ["per"] = "1s", ["store"] = "shared" } },
        }),
        StoreNames = ["shared"],
    };

    [Fact]
    public void UnderTheSharedRate_LetThroughAndCounted_OverIt_RefusedAndNotCounted()
    {
        var store = new FakeStore();
        var buckets = new ClientBuckets(new FakeStores(store));
        ListenerSettings listener = Shared(3);

        Assert.True(buckets.Take(listener, Client).Allowed);
        FakeCounter counter = store.Counters.Values.Single();
        Assert.Equal($"rl:{listener.Name}:192.0.2.7", counter.Key);
        Assert.Equal(TimeSpan.FromSeconds(1), counter.Window);
        Assert.Equal(1, counter.Rate);

        // The other instances counted too: the shared rate reaches the limit.
        counter.Others = 2;
        TakeResult refused = buckets.Take(listener, Client);
        Assert.False(refused.Allowed);
        Assert.True(refused.FirstRefusal);
        Assert.False(refused.StoreRefusing);
        Assert.InRange(refused.RetryAfter, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(1));
        Assert.False(buckets.Take(listener, Client).FirstRefusal);
        Assert.Equal(3, counter.Rate);
    }

    [Fact]
    public void StoreRefusing_Refuses_WithoutCounting()
    {
        var store = new FakeStore { Refusing = true };
        var buckets = new ClientBuckets(new FakeStores(store));

        TakeResult taken = buckets.Take(Shared(100), Client);

        Assert.False(taken.Allowed);
        Assert.True(taken.StoreRefusing);
        Assert.Equal(TimeSpan.FromSeconds(1), taken.RetryAfter);
        Assert.Empty(store.Counters);
    }

    [Fact]
    public void AKnownClient_CostsNoAllocation()
    {
        var store = new FakeStore();
        var buckets = new ClientBuckets(new FakeStores(store));
        ListenerSettings listener = Shared(int.MaxValue);
        buckets.Take(listener, Client);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            buckets.Take(listener, Client);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Single(store.Counters);
    }

    private sealed class FakeStores(FakeStore store) : IStores
    {
        private readonly ISharedStore[] _all = [store];

        public IReadOnlyList<ISharedStore> All => _all;

        public ISharedStore? Find(string name) => name == store.Name ? store : null;
    }

    private sealed class FakeStore : ISharedStore
    {
        public Dictionary<string, FakeCounter> Counters { get; } = [];

        public string Name => "shared";

        public StoreState State => Refusing ? StoreState.Down : StoreState.Up;

        public TimeSpan SyncInterval => TimeSpan.FromMilliseconds(100);

        public bool Refusing { get; set; }

        public ISharedCounter Counter(string key, TimeSpan window)
        {
            if (!Counters.TryGetValue(key, out FakeCounter? counter))
            {
                counter = new FakeCounter(key, window);
                Counters[key] = counter;
            }

            return counter;
        }
    }

    private sealed class FakeCounter(string key, TimeSpan window) : ISharedCounter
    {
        public double Own;
        public double Others;

        public string Key => key;

        public TimeSpan Window => window;

        public double Rate => Own + Others;

        public double LocalRate => Own;

        public double Increment(long delta = 1)
        {
            Own += delta;
            return Rate;
        }
    }
}
