using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Admin;

/// <summary>
/// The admin endpoint (<c>/api/stats</c>, and the dashboard from <c>/api/dashboard</c>) counts, per listener, the sessions whose channels analyzers hold (<c>Hold</c>) and those whose bytes
/// flow without waking the supervisor (<c>Autonomous</c>): a tcp relay, an http body, a tunnel.
/// </summary>
public sealed class ChannelStatesTests
{
    private static string Config(string supervisor, string origin, string listenerExtra) => $$"""
        {{RunningProxy.GlobalSection("admin = \"127.0.0.1:0\"", plugins: RepoPaths.TestPluginsBin)}}
        [[listener]]
        name = "in"
        bind = ["127.0.0.1:0"]
        supervisor = "{{supervisor}}"
        backend = "app"
        {{listenerExtra}}

        [[backend]]
        name = "app"
        servers = [{ name = "origin", address = "{{origin}}" }]
        """;

    [Fact]
    public async Task TcpSessionRelaying_IsCountedAutonomous_AndNoLongerOnceItEnds()
    {
        await using StubServer echo = StubServer.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config("tcp", echo.Address, ""));
        using HttpClient admin = new() { BaseAddress = new Uri($"http://{proxy.Host.AdminEndPoint}/") };
        using (Socket client = await proxy.ConnectAsync())
        {
            await client.SendAllAsync("ping"u8.ToArray());
            Assert.Equal("ping", Encoding.ASCII.GetString(await client.ReadExactlyAsync(4)));

            await Wait.ForAsync(async () => (await StatesAsync(admin)).Autonomous == 1, "the relaying session to show as autonomous");
            Assert.Equal(0, (await StatesAsync(admin)).Held);
            using JsonDocument dashboard = JsonDocument.Parse(await admin.GetStringAsync("/api/dashboard"));
            Assert.Equal(1, dashboard.RootElement.GetProperty("listeners")[0].GetProperty("autonomous").GetInt32());
        }

        await Wait.ForAsync(async () => (await StatesAsync(admin)).Autonomous == 0, "the ended session to leave the count");
    }

    [Fact]
    public async Task HttpRequestHeldByAnAnalyzer_IsCountedHeld()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config("http", origin.Address, "request_analyzers = [\"contract_hold_until_go\"]"));
        using HttpClient admin = new() { BaseAddress = new Uri($"http://{proxy.Host.AdminEndPoint}/") };
        using Socket client = await proxy.ConnectAsync();

        await client.SendAllAsync("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n"u8.ToArray());

        await Wait.ForAsync(async () => (await StatesAsync(admin)).Held == 1, "the held request to show in /api/stats");
        using (JsonDocument dashboard = JsonDocument.Parse(await admin.GetStringAsync("/api/dashboard")))
        {
            Assert.Equal(1, dashboard.RootElement.GetProperty("listeners")[0].GetProperty("held").GetInt32());
        }

        await client.SendAllAsync("GO"u8.ToArray());
        await Wait.ForAsync(async () => (await StatesAsync(admin)).Held == 0, "the released request to leave the count");
    }

    private static async Task<(int Held, int Autonomous)> StatesAsync(HttpClient admin)
    {
        using JsonDocument stats = JsonDocument.Parse(await admin.GetStringAsync("/api/stats"));
        JsonElement listener = stats.RootElement.GetProperty("listeners")[0];
        return (listener.GetProperty("held").GetInt32(), listener.GetProperty("autonomous").GetInt32());
    }
}
