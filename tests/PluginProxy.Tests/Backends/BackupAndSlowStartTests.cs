using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using PluginProxy.Abstractions;
using PluginProxy.Host.Admin;
using PluginProxy.Host.Backends;
using PluginProxy.Host.Configuration;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Backends;

/// <summary><c>backup = true</c> servers, and the weight ramp of <c>slowstart</c>.</summary>
public class BackupAndSlowStartTests
{
    private static Backend Make(BalanceAlgorithm balance, params (int Weight, bool Backup, string SlowStart)[] servers) => new(new BackendConfig
    {
        Name = "app",
        Spot = new SourceSpot("proxy.toml", 1, 1),
        Balance = balance,
        Timeouts = new ProxyTimeouts(),
        Servers = servers.Select((s, i) => new ServerConfig
        {
            Name = ((char)('a' + i)).ToString(),
            Address = $"127.0.0.1:{9000 + i}",
            EndPoint = new IPEndPoint(IPAddress.Loopback, 9000 + i),
            Weight = s.Weight,
            Backup = s.Backup,
            SlowStart = s.SlowStart.Length == 0 ? TimeSpan.Zero : Units.TryParseDuration(s.SlowStart, out TimeSpan d, out _) ? d : throw new ArgumentException(s.SlowStart),
            Spot = new SourceSpot("proxy.toml", 1, 1),
        }).ToList(),
    });

    private static Dictionary<string, int> Count(Backend backend, int picks)
    {
        var counts = backend.ServerStates.ToDictionary(s => s.Name, _ => 0);
        for (int i = 0; i < picks; i++)
        {
            counts[backend.PickServer(default)!.Name]++;
        }

        return counts;
    }

    [Theory]
    [InlineData(BalanceAlgorithm.RoundRobin)]
    [InlineData(BalanceAlgorithm.LeastConn)]
    [InlineData(BalanceAlgorithm.Random)]
    public void Backups_GetNothingWhileANormalServerIsUp_AllWhenNoneIs_BalancedAmongThem(BalanceAlgorithm balance)
    {
        Backend backend = Make(balance, (1, false, ""), (1, false, ""), (1, true, ""), (1, true, ""));
        Server a = backend.ServerStates[0], b = backend.ServerStates[1];

        Dictionary<string, int> normal = Count(backend, 40);
        Assert.Equal(0, normal["c"] + normal["d"]);

        a.SetUp(false);
        Assert.Equal(40, Count(backend, 40)["b"]);
        b.SetAdminState(ServerAdminState.Maint);
        Assert.True(backend.UsingBackups);
        Dictionary<string, int> backups = Count(backend, 40);
        Assert.Equal(0, backups["a"] + backups["b"]);
        Assert.True(backups["c"] > 0 && backups["d"] > 0, $"c={backups["c"]} d={backups["d"]}");

        a.SetUp(true);
        Assert.False(backend.UsingBackups);
        Assert.Equal(40, Count(backend, 40)["a"]);
    }

    [Fact]
    public void SlowStart_RampsTheWeightLinearly_AndRoundRobinFollowsTheRamp()
    {
        var clock = new ManualClock();
        Backend backend = Make(BalanceAlgorithm.RoundRobin, (1, false, ""), (1, false, "10s"));
        backend.Clock = clock;
        Server b = backend.ServerStates[1];
        Assert.Equal(1.0, b.EffectiveWeight);

        b.SetUp(false);
        b.SetUp(true);
        Assert.Equal(0.05, b.EffectiveWeight);
        Assert.Equal(1, Count(backend, 21)["b"]);

        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(0.55, b.EffectiveWeight, 3);
        Assert.Equal(11, Count(backend, 31)["b"]);
        Assert.Equal(0.55, (double)RuntimeApi.Describe(b)["effective_weight"]!, 3);

        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(1.0, b.EffectiveWeight);
        Assert.Equal(10, Count(backend, 20)["b"]);
    }

    [Fact]
    public void SlowStart_StartsWhenTheRuntimeApiMakesAServerReadyAgain_NotAtStart()
    {
        var clock = new ManualClock();
        Backend backend = Make(BalanceAlgorithm.LeastConn, (4, false, "20s"));
        backend.Clock = clock;
        Server a = backend.ServerStates[0];
        Assert.Equal(4.0, a.EffectiveWeight);

        a.SetAdminState(ServerAdminState.Maint);
        a.SetAdminState(ServerAdminState.Ready);
        Assert.Equal(0.2, a.EffectiveWeight, 3);
        clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(2.1, a.EffectiveWeight, 3);
        clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(4.0, a.EffectiveWeight);
    }

    [Fact]
    public async Task AReloadThatKeepsAServer_AppliesItsNewMaxconnBackupAndSlowstart()
    {
        Backend template = Make(BalanceAlgorithm.RoundRobin, (1, false, ""), (1, false, ""));
        var running = new BackendCatalog([Config(template, maxconn: 0, backup: false)]);
        Backend before = running.Backends[0];
        var carryOver = new ServerCarryOver(running);
        Backend after = new BackendCatalog([Config(template, maxconn: 1, backup: true)], carryOver).Backends[0];
        Assert.Equal(0, before.ServerStates[1].MaxConn);
        carryOver.Commit();

        Server b = after.ServerStates[1];
        Assert.Same(before.ServerStates[1], b);
        Assert.Equal((1, true, TimeSpan.FromSeconds(3)), (b.MaxConn, b.IsBackup, b.SlowStart));
        Assert.Same(before.Queue, after.Queue);
        ServerLease lease = await after.AcquireAsync(default, [after.ServerStates[0]], CancellationToken.None);
        Assert.Null(lease.Server); // b is a backup now, and a is excluded
        after.ServerStates[0].SetUp(false);
        lease = await after.AcquireAsync(default, null, CancellationToken.None);
        Assert.Same(b, lease.Server);
        Assert.True(lease.IsCounted);
        Assert.Equal(1, b.Served);
        lease.Release();
        Assert.Equal(0, b.Served);
    }

    private static BackendConfig Config(Backend backend, int maxconn, bool backup) => new()
    {
        Name = backend.Name,
        Spot = new SourceSpot("proxy.toml", 1, 1),
        Timeouts = new ProxyTimeouts(),
        Servers = backend.ServerStates.Select((s, i) => new ServerConfig
        {
            Name = s.Name,
            Address = s.Address.ToString(),
            EndPoint = s.Address,
            MaxConn = i == 1 ? maxconn : 0,
            Backup = i == 1 && backup,
            SlowStart = i == 1 && backup ? TimeSpan.FromSeconds(3) : TimeSpan.Zero,
            Spot = new SourceSpot("proxy.toml", 1, 1),
        }).ToList(),
    };

    private static string Config(string servers, string extra = "") => $$"""
        {{RunningProxy.GlobalSection()}}
        [[listener]]
        name = "web"
        bind = ["127.0.0.1:0"]
        supervisor = "http"
        backend = "app"

        [[backend]]
        name = "app"
        servers = [{{servers}}]
        {{extra}}
        """;

    private static async Task<List<string>> SendAsync(RunningProxy proxy, int count)
    {
        var bodies = new List<string>();
        for (int i = 0; i < count; i++)
        {
            using RawHttp client = await RawHttp.ConnectAsync(proxy);
            await client.SendAsync($"GET /{i} HTTP/1.1\r\nHost: a\r\n\r\n");
            RawResponse response = await client.ReadResponseAsync();
            Assert.Equal(200, response.Status);
            bodies.Add(response.BodyText);
        }

        return bodies;
    }

    [Fact]
    public async Task Backups_TakeTheTraffic_WhenTheRuntimeApiPutsTheNormalServerInMaint_AndGiveItBack()
    {
        await using HttpOrigin a = HttpOrigin.Named("a");
        await using HttpOrigin b = HttpOrigin.Named("b");
        await using HttpOrigin c = HttpOrigin.Named("c");
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(
            $$"""{ name = "a", address = "{{a.Address}}" }, { name = "b", address = "{{b.Address}}", backup = true }, { name = "c", address = "{{c.Address}}", backup = true }"""));
        var api = new RuntimeChanges(proxy.Host, NullLogger.Instance);

        Assert.All(await SendAsync(proxy, 4), body => Assert.Equal("a", body));

        Assert.Equal(200, (await api.ChangeServerAsync("app", "a", new ServerChange(ServerAdminState.Maint, null), "test")).Status);
        List<string> backups = await SendAsync(proxy, 4);
        Assert.Equal(2, backups.Count(x => x == "b"));
        Assert.Equal(2, backups.Count(x => x == "c"));

        Assert.Equal(200, (await api.ChangeServerAsync("app", "a", new ServerChange(ServerAdminState.Ready, null), "test")).Status);
        Assert.All(await SendAsync(proxy, 4), body => Assert.Equal("a", body));
    }

    [Fact]
    public async Task Backup_TakesTheTraffic_WhenHealthChecksTakeTheNormalServerDown()
    {
        using var closed = new DeadPort();
        await using HttpOrigin b = HttpOrigin.Named("b");
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(
            $$"""{ name = "a", address = "{{closed.Address}}" }, { name = "b", address = "{{b.Address}}", backup = true }""",
            """check = { kind = "tcp", interval = "50ms", timeout = "1s", rise = 1, fall = 1 }"""));
        Backend backend = proxy.Host.Backends.Backends[0];
        await Wait.UntilAsync(() => !backend.ServerStates[0].IsUp, "server a down");

        Assert.All(await SendAsync(proxy, 4), body => Assert.Equal("b", body));
        Assert.True(backend.UsingBackups);
    }
}
