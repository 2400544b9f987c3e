using System.Net;
using PluginProxy.Abstractions;
using PluginProxy.Host.Backends;
using PluginProxy.Host.Configuration;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Backends;

/// <summary>Passive health checks (outlier detection) on a clock the test moves: ejections, their growing length, the return.</summary>
public class PassiveHealthTests
{
    private static Backend Make(ManualClock clock, int servers = 2, PassiveHealthConfig? passive = null) => new(new BackendConfig
    {
        Name = "app",
        Spot = new SourceSpot("proxy.toml", 1, 1),
        Timeouts = new ProxyTimeouts(),
        Retries = 3,
        Passive = passive ?? new PassiveHealthConfig { ConsecutiveFailures = 3, Ejection = TimeSpan.FromSeconds(10), MaxEjection = TimeSpan.FromSeconds(25) },
        Servers = Enumerable.Range(0, servers).Select(i => new ServerConfig
        {
            Name = ((char)('a' + i)).ToString(),
            Address = $"127.0.0.1:{9000 + i}",
            EndPoint = new IPEndPoint(IPAddress.Loopback, 9000 + i),
            Spot = new SourceSpot("proxy.toml", 1, 1),
        }).ToList(),
    })
    { Clock = clock };

    private static void Fail(Server server, int times)
    {
        for (int i = 0; i < times; i++)
        {
            server.Passive.Failed("answered 500");
        }
    }

    [Fact]
    public void ConsecutiveFailures_EjectForTheBaseTime_ThenTheServerReturns()
    {
        var clock = new ManualClock();
        Backend backend = Make(clock);
        Server a = backend.ServerStates[0];

        Fail(a, 2);
        Assert.False(a.Passive.IsEjected);
        Fail(a, 1);

        Assert.True(a.Passive.IsEjected);
        Assert.False(a.IsEligible);
        Assert.Equal(clock.GetUtcNow() + TimeSpan.FromSeconds(10), a.Passive.EjectedUntil);
        Assert.Equal("answered 500", a.Passive.Reason);
        Assert.All(Enumerable.Range(0, 6), _ => Assert.Equal("b", backend.PickServer(default)!.Name));

        clock.Advance(TimeSpan.FromSeconds(9));
        Assert.True(a.Passive.IsEjected);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.False(a.Passive.IsEjected);
        Assert.True(a.IsEligible);
        Assert.Equal(1, a.Passive.Ejections);
    }

    [Fact]
    public void ASuccess_ResetsTheCount()
    {
        var clock = new ManualClock();
        Server a = Make(clock).ServerStates[0];

        Fail(a, 2);
        a.Passive.Succeeded();
        Fail(a, 2);

        Assert.False(a.Passive.IsEjected);
        Fail(a, 1);
        Assert.True(a.Passive.IsEjected);
    }

    [Fact]
    public void AReturnedServer_IsEjectedAgainAtItsFirstFailure_ForLonger_UpToTheMaximum()
    {
        var clock = new ManualClock();
        Server a = Make(clock).ServerStates[0];

        Fail(a, 3);
        clock.Advance(TimeSpan.FromSeconds(10));
        Assert.False(a.Passive.IsEjected);

        // On probation: one failure is enough, and the ejection is twice the base.
        Fail(a, 1);
        Assert.Equal(clock.GetUtcNow() + TimeSpan.FromSeconds(20), a.Passive.EjectedUntil);
        clock.Advance(TimeSpan.FromSeconds(20));
        Assert.False(a.Passive.IsEjected);

        // Three times the base would be 30s: max_ejection caps it at 25s.
        Fail(a, 1);
        Assert.Equal(clock.GetUtcNow() + TimeSpan.FromSeconds(25), a.Passive.EjectedUntil);
        clock.Advance(TimeSpan.FromSeconds(25));
        Assert.False(a.Passive.IsEjected);
        Assert.Equal(3, a.Passive.Ejections);

        // A success ends the probation: the next ejection needs the full count again; time in service earns the
        // multiplier back (35s = 3 base times: from 3 down to 0, so the next ejection is the base again).
        a.Passive.Succeeded();
        Fail(a, 2);
        Assert.False(a.Passive.IsEjected);
        clock.Advance(TimeSpan.FromSeconds(35));
        Fail(a, 1);
        Assert.Equal(clock.GetUtcNow() + TimeSpan.FromSeconds(10), a.Passive.EjectedUntil);
    }

    [Fact]
    public void MaxEjectedPercent_KeepsServersInService()
    {
        var clock = new ManualClock();
        Backend backend = Make(clock, servers: 2);
        Server a = backend.ServerStates[0], b = backend.ServerStates[1];

        Fail(a, 3);
        Fail(b, 3);

        // 50% of two servers: one may be ejected, not both.
        Assert.True(a.Passive.IsEjected);
        Assert.False(b.Passive.IsEjected);
        clock.Advance(TimeSpan.FromSeconds(10));
        Fail(b, 1);
        Assert.True(b.Passive.IsEjected);
    }

    [Fact]
    public void ABackendWithoutPassiveChecks_NeverEjects()
    {
        var clock = new ManualClock();
        Backend backend = new(new BackendConfig
        {
            Name = "app",
            Spot = new SourceSpot("proxy.toml", 1, 1),
            Timeouts = new ProxyTimeouts(),
            Servers = [new ServerConfig { Name = "a", Address = "127.0.0.1:9000", EndPoint = new IPEndPoint(IPAddress.Loopback, 9000), Spot = new SourceSpot("proxy.toml", 1, 1) }],
        })
        { Clock = clock };

        Fail(backend.ServerStates[0], 100);

        Assert.False(backend.ServerStates[0].Passive.IsEjected);
    }
}
