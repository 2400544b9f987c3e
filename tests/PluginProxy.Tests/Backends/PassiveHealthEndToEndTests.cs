using System.Text.Json;
using PluginProxy.Host.Backends;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Backends;

/// <summary>Passive health checks end to end: a backend of two servers, one of which fails; traffic ejects it and it returns.</summary>
public class PassiveHealthEndToEndTests
{
    private static string Config(string a, string b, string passive) => $$"""
        {{RunningProxy.GlobalSection()}}
        [[listener]]
        name = "web"
        bind = ["127.0.0.1:0"]
        supervisor = "http"
        backend = "app"

        [[backend]]
        name = "app"
        balance = "roundrobin"
        servers = [{ name = "a", address = "{{a}}" }, { name = "b", address = "{{b}}" }]

        [backend.passive]
        {{passive}}
        """;

    private static async Task<List<string>> SendAsync(RunningProxy proxy, int count)
    {
        var bodies = new List<string>();
        for (int i = 0; i < count; i++)
        {
            using RawHttp client = await RawHttp.ConnectAsync(proxy);
            await client.SendAsync($"GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n");
            RawResponse response = await client.ReadResponseAsync();
            bodies.Add($"{response.Status} {response.BodyText}");
        }

        return bodies;
    }

    [Fact]
    public async Task AServerAnswering500_IsEjectedAfterNFailures_GetsNoTraffic_ThenReturns()
    {
        await using HttpOrigin a = HttpOrigin.Respond("HTTP/1.1 500 Oops\r\nContent-Length: 1\r\n\r\na");
        await using HttpOrigin b = HttpOrigin.Named("b");
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(a.Address, b.Address, "consecutive_failures = 3\nejection = \"2s\""));
        Server server = proxy.Host.Backends.Backends[0].ServerStates[0];

        // Round robin: a gets requests 1, 3 and 5, and fails them all.
        List<string> first = await SendAsync(proxy, 6);
        Assert.Equal(3, first.Count(r => r == "500 a"));
        await Wait.UntilAsync(() => server.Passive.IsEjected, "server a to be ejected");
        await proxy.Logs.WaitForAsync("PluginProxy.Backends", l => l.Contains("app/a is EJECTED for 00:00:02") && l.Contains("answered 500"), "the ejection's log line");
        Dictionary<string, object?> described = Host.Admin.RuntimeApi.Describe(server);
        Assert.NotNull(described["ejected_until"]);
        Assert.Equal("answered 500", described["ejection_reason"]);

        // Ejected: all traffic goes to b.
        int before = a.Requests.Count;
        Assert.All(await SendAsync(proxy, 6), r => Assert.Equal("200 b", r));
        Assert.Equal(before, a.Requests.Count);

        // Back after the ejection: a gets traffic again, and its first failure ejects it again at once.
        await Wait.UntilAsync(() => !server.Passive.IsEjected, "server a to return");
        await proxy.Logs.WaitForAsync("PluginProxy.Backends", l => l.Contains("app/a is back"), "the return's log line");
        List<string> after = await SendAsync(proxy, 2);
        Assert.Contains("500 a", after);
        await Wait.UntilAsync(() => server.Passive.IsEjected && server.Passive.Ejections == 2, "server a to be ejected again");
    }

    [Fact]
    public async Task AServerRefusingConnections_IsEjected()
    {
        using var refusing = new DeadPort();
        await using HttpOrigin b = HttpOrigin.Named("b");
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(refusing.Address, b.Address, "consecutive_failures = 2\nejection = \"30s\""));
        Server server = proxy.Host.Backends.Backends[0].ServerStates[0];

        // Each refused connect is retried on b: the clients never see it.
        Assert.All(await SendAsync(proxy, 4), r => Assert.Equal("200 b", r));
        Assert.True(server.Passive.IsEjected);
        long failed = server.FailedConnections;
        Assert.Equal(2, failed);

        Assert.All(await SendAsync(proxy, 4), r => Assert.Equal("200 b", r));
        Assert.Equal(failed, server.FailedConnections);
    }

    [Fact]
    public async Task PassiveChecksAreOff_WithoutTheTable()
    {
        await using HttpOrigin a = HttpOrigin.Respond("HTTP/1.1 500 Oops\r\nContent-Length: 1\r\n\r\na");
        await using HttpOrigin b = HttpOrigin.Named("b");
        string toml = Config(a.Address, b.Address, "").Replace("[backend.passive]", "");
        await using RunningProxy proxy = await RunningProxy.StartAsync(toml);

        List<string> answers = await SendAsync(proxy, 12);

        Assert.Equal(6, answers.Count(r => r == "500 a"));
        Assert.False(proxy.Host.Backends.Backends[0].ServerStates[0].Passive.IsEjected);
    }
}
