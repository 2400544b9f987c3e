using System.Net;
using PluginProxy.Abstractions;
using PluginProxy.Host.Backends;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Tests.Backends;

/// <summary><c>balance = "hash"</c>: the ring moves only a down server's keys, respects weights, and allocates nothing.</summary>
public class ConsistentHashTests
{
    private static Backend Make(BalanceAlgorithm balance, HashKeySource source, params int[] weights) => new(new BackendConfig
    {
        Name = "app",
        Spot = new SourceSpot("proxy.toml", 1, 1),
        Balance = balance,
        HashKeySource = source,
        HashKeyName = source is HashKeySource.Header or HashKeySource.Cookie ? "X-User" : null,
        Timeouts = new ProxyTimeouts(),
        Retries = 3,
        Servers = weights.Select((w, i) => new ServerConfig
        {
            Name = $"s{i}",
            Address = $"127.0.0.1:{9000 + i}",
            EndPoint = new IPEndPoint(IPAddress.Loopback, 9000 + i),
            Weight = w,
            Spot = new SourceSpot("proxy.toml", 1, 1),
        }).ToList(),
    });

    private static Dictionary<string, string> Assign(Backend backend, IEnumerable<string> keys) =>
        keys.ToDictionary(k => k, k => backend.PickServer(new ServerSelection(null, k))!.Name);

    [Fact]
    public void OneServerOfTenDown_MovesOnlyItsOwnKeys_AboutATenth_AndTheyComeBack()
    {
        Backend backend = Make(BalanceAlgorithm.Hash, HashKeySource.Header, Enumerable.Repeat(1, 10).ToArray());
        string[] keys = Enumerable.Range(0, 10_000).Select(i => $"user-{i}").ToArray();
        Dictionary<string, string> before = Assign(backend, keys);

        backend.ServerStates[3].SetUp(false);
        Dictionary<string, string> during = Assign(backend, keys);
        backend.ServerStates[3].SetUp(true);
        Dictionary<string, string> after = Assign(backend, keys);

        string[] moved = keys.Where(k => before[k] != during[k]).ToArray();
        double share = moved.Length / (double)keys.Length;
        Assert.InRange(share, 0.07, 0.13);
        Assert.All(moved, k => Assert.Equal("s3", before[k]));
        Assert.DoesNotContain("s3", during.Values);
        Assert.Equal(before, after);
    }

    [Fact]
    public void Weights_AreRespectedRoughly()
    {
        Backend backend = Make(BalanceAlgorithm.Hash, HashKeySource.Header, 1, 2, 4);
        Dictionary<string, int> counts = Assign(backend, Enumerable.Range(0, 14_000).Select(i => $"k{i}"))
            .GroupBy(p => p.Value).ToDictionary(g => g.Key, g => g.Count());

        // Expected 2000, 4000, 8000.
        Assert.InRange(counts["s0"], 1500, 2500);
        Assert.InRange(counts["s1"], 3200, 4800);
        Assert.InRange(counts["s2"], 7000, 9000);
    }

    [Fact]
    public void TheRing_DoesNotDependOnTheServersOrder()
    {
        Backend backend = Make(BalanceAlgorithm.Hash, HashKeySource.Header, 1, 1, 1);
        Dictionary<string, string> before = Assign(backend, Enumerable.Range(0, 500).Select(i => $"k{i}"));
        Server first = backend.ServerStates[0];
        backend.Remove(first);
        backend.TryAdd(first);

        Assert.Equal("s1,s2,s0", string.Join(",", backend.Servers.Select(s => s.Name)));
        Assert.Equal(before, Assign(backend, before.Keys));
    }

    [Fact]
    public void Source_HashesTheClientAddress_AndAStreamWithoutTheKey_GoesRoundRobin()
    {
        Backend bySource = Make(BalanceAlgorithm.Hash, HashKeySource.Source, 1, 1, 1, 1);
        var client = new IPEndPoint(IPAddress.Parse("10.1.2.3"), 5000);
        string first = bySource.PickServer(new ServerSelection(client))!.Name;
        Assert.All(Enumerable.Range(0, 20), i => Assert.Equal(first, bySource.PickServer(new ServerSelection(new IPEndPoint(client.Address, 6000 + i)))!.Name));

        Backend byHeader = Make(BalanceAlgorithm.Hash, HashKeySource.Header, 1, 1, 1, 1);
        string picks = string.Concat(Enumerable.Range(0, 8).Select(_ => byHeader.PickServer(new ServerSelection(client))!.Name[1..]));
        Assert.Equal(4, picks.Distinct().Count());
    }

    [Fact]
    public void ExcludedServers_ArePassedOver_AndNoEligibleServer_PicksNothing()
    {
        Backend backend = Make(BalanceAlgorithm.Hash, HashKeySource.Header, 1, 1);
        var selection = new ServerSelection(null, "alice");
        IServer first = backend.PickServer(selection)!;

        Assert.NotSame(first, backend.PickServer(selection, [first]));
        Assert.Null(backend.PickServer(selection, backend.Servers.ToArray()));
    }

    [Fact]
    public void APick_AllocatesNothing()
    {
        Backend backend = Make(BalanceAlgorithm.Hash, HashKeySource.Header, 1, 2, 3, 4);
        var selection = new ServerSelection(new IPEndPoint(IPAddress.Loopback, 1), "some-user-key");
        backend.PickServer(selection);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            backend.PickServer(selection);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [InlineData(BalanceAlgorithm.RoundRobin)]
    [InlineData(BalanceAlgorithm.LeastConn)]
    [InlineData(BalanceAlgorithm.Source)]
    [InlineData(BalanceAlgorithm.Uri)]
    [InlineData(BalanceAlgorithm.Random)]
    [InlineData(BalanceAlgorithm.Hash)]
    public void APreferredServer_WinsWhileItCanTakeTheStream(BalanceAlgorithm balance)
    {
        Backend backend = Make(balance, HashKeySource.Header, 1, 1, 1);
        Backend other = Make(balance, HashKeySource.Header, 1, 1, 1);
        Server preferred = backend.ServerStates[2];
        var selection = new ServerSelection(new IPEndPoint(IPAddress.Loopback, 1), "key", preferred);

        Assert.All(Enumerable.Range(0, 10), _ => Assert.Same(preferred, backend.PickServer(selection)));
        Assert.NotSame(preferred, backend.PickServer(selection, [preferred]));
        Assert.DoesNotContain(Enumerable.Range(0, 10).Select(_ => other.PickServer(selection)), s => ReferenceEquals(s, preferred));
        preferred.SetUp(false);
        Assert.All(Enumerable.Range(0, 10), _ => Assert.NotSame(preferred, backend.PickServer(selection)));
    }
}
