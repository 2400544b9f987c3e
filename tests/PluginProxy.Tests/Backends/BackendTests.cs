using System.Net;
using PluginProxy.Abstractions;
using PluginProxy.Host.Backends;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Tests.Backends;

public class BackendTests
{
    private static Backend Make(BalanceAlgorithm balance, params int[] weights) => new(new BackendConfig
    {
        Name = "app",
        Spot = new SourceSpot("proxy.toml", 1, 1),
        Balance = balance,
        Timeouts = new ProxyTimeouts(),
        Retries = 3,
        Servers = weights.Select((w, i) => new ServerConfig
        {
            Name = ((char)('a' + i)).ToString(),
            Address = $"127.0.0.1:{9000 + i}",
            EndPoint = new IPEndPoint(IPAddress.Loopback, 9000 + i),
            Weight = w,
            Spot = new SourceSpot("proxy.toml", 1, 1),
        }).ToList(),
    });

    private static string Picks(Backend backend, int count, ServerSelection selection = default) =>
        string.Concat(Enumerable.Range(0, count).Select(_ => backend.PickServer(selection)!.Name));

    [Fact]
    public void SmoothWeightedSequence_InterleavesHeavyServers() =>
        Assert.Equal([0, 0, 1, 0, 2, 0, 0], Backend.SmoothWeightedSequence([5, 1, 1]));

    [Fact]
    public void RoundRobin_FollowsWeights()
    {
        Backend backend = Make(BalanceAlgorithm.RoundRobin, 2, 1);

        Assert.Equal("abaaba", Picks(backend, 6));
    }

    [Fact]
    public void RoundRobin_SkipsDownAndExcludedServers()
    {
        Backend backend = Make(BalanceAlgorithm.RoundRobin, 1, 1, 1);
        backend.ServerStates[1].SetUp(false);

        Assert.DoesNotContain("b", Picks(backend, 9));
        Assert.Equal("c", backend.PickServer(default, [backend.Servers[0]])!.Name);
    }

    [Fact]
    public void NoServerUp_PicksNothing()
    {
        Backend backend = Make(BalanceAlgorithm.RoundRobin, 1, 1);
        foreach (Server server in backend.ServerStates)
        {
            server.SetUp(false);
        }

        Assert.Null(backend.PickServer(default));
    }

    [Fact]
    public void LeastConn_PicksTheLeastLoadedRelativeToWeight()
    {
        Backend backend = Make(BalanceAlgorithm.LeastConn, 1, 2);
        backend.ServerStates[0].ConnectionOpened();
        backend.ServerStates[1].ConnectionOpened();

        // a: 1 of weight 1, b: 1 of weight 2, so b is less loaded.
        Assert.Equal("b", backend.PickServer(default)!.Name);
        backend.ServerStates[1].ConnectionOpened();
        backend.ServerStates[1].ConnectionOpened();
        Assert.Equal("a", backend.PickServer(default)!.Name);
    }

    [Fact]
    public void LeastConn_CountsStreamsInFlight_NotIdlePooledConnections()
    {
        Backend backend = Make(BalanceAlgorithm.LeastConn, 1, 1);
        Server a = backend.ServerStates[0];
        Server b = backend.ServerStates[1];

        // a keeps three connections idle in a pool; b serves one request.
        for (int i = 0; i < 3; i++)
        {
            a.ConnectionOpened();
            a.ConnectionIdle(true);
        }

        b.ConnectionOpened();

        Assert.Equal(3, a.ActiveConnections);
        Assert.Equal(0, a.ActiveStreams);
        Assert.All(Enumerable.Range(0, 4), _ => Assert.Equal("a", backend.PickServer(default)!.Name));

        // Two of a's connections are taken for streams: now b is the less loaded.
        a.ConnectionIdle(false);
        a.ConnectionIdle(false);
        Assert.Equal("b", backend.PickServer(default)!.Name);
        a.ConnectionClosed(wasIdle: true);
        Assert.Equal(2, a.ActiveConnections);
        Assert.Equal(2, a.ActiveStreams);
    }

    [Fact]
    public void Source_SendsOneClientToOneServer_AndSpreadsClients()
    {
        Backend backend = Make(BalanceAlgorithm.Source, 1, 1, 1);
        var client = new IPEndPoint(IPAddress.Parse("192.0.2.7"), 1000);
        var samePortless = new IPEndPoint(IPAddress.Parse("192.0.2.7"), 2000);

        string first = backend.PickServer(new ServerSelection(client))!.Name;
        Assert.All(Enumerable.Range(0, 20), _ => Assert.Equal(first, backend.PickServer(new ServerSelection(samePortless))!.Name));
        var spread = Enumerable.Range(1, 60)
            .Select(i => backend.PickServer(new ServerSelection(new IPEndPoint(IPAddress.Parse($"192.0.2.{i}"), 1)))!.Name)
            .ToHashSet();
        Assert.Equal(3, spread.Count);
    }

    [Fact]
    public void Uri_HashesTheKey()
    {
        Backend backend = Make(BalanceAlgorithm.Uri, 1, 1, 1);

        string first = backend.PickServer(new ServerSelection(null, "/images/logo.png"))!.Name;
        Assert.Equal(first, backend.PickServer(new ServerSelection(null, "/images/logo.png"))!.Name);
        Assert.Equal(3, Enumerable.Range(0, 60).Select(i => backend.PickServer(new ServerSelection(null, $"/p/{i}"))!.Name).ToHashSet().Count);
    }

    [Fact]
    public void Random_UsesEveryServerInProportion()
    {
        Backend backend = Make(BalanceAlgorithm.Random, 3, 1);

        int a = Picks(backend, 4000).Count(c => c == 'a');

        // Expect 3000; the bound is loose enough never to fail by chance (over 20 standard deviations).
        Assert.InRange(a, 2450, 3550);
    }
}
