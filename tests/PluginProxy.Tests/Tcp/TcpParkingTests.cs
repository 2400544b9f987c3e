using System.Net.Sockets;
using System.Text;
using PluginProxy.Host.Accept;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Tcp;

/// <summary>
/// Joined tcp sessions idle both ways are parked by the host with their server connection, and resumed when either
/// side sends: the bytes keep flowing as if nothing happened, and the session writes one log line at its very end.
/// Timing-sensitive: a join parks after a second idle, on the process's one heartbeat. These tests once timed out now and
/// then waiting for the park: a stale readiness event had ended a pump's zero-byte wait and sent it into a buffered read
/// (TcpRelay now reads without waiting then); the wait's message describes each relay's parking state.
/// </summary>
[Collection(TimingSensitive.Name)]
public class TcpParkingTests
{
    private static async Task<(Listener Listener, Socket Client)> ParkedSessionAsync(RunningProxy proxy)
    {
        Listener listener = proxy.Host.FindListener("tcp-in")!;
        Socket client = await proxy.ConnectAsync();
        await client.SendAllAsync("hello"u8.ToArray());
        Assert.Equal("hello", Encoding.ASCII.GetString(await client.ReadExactlyAsync(5)));
        try
        {
            // The park is due a second after the last byte; the deadline leaves a loaded machine room (the wait ends at the park).
            await Wait.UntilAsync(() => listener.ParkedSessions == 1 && proxy.Host.Sessions.Count == 0, "the idle session parked", TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException timedOut)
        {
            // What the listener and its relays hold at the deadline, to tell a park never tried from one undone at once.
            PluginProxy.Host.Plugins.Heartbeat heartbeat = PluginProxy.Host.Plugins.Heartbeat.Shared;
            long now = Environment.TickCount64;
            IReadOnlyList<PluginProxy.Abstractions.IExpiring> targets = heartbeat.Targets;
            string relays = string.Join("; ", targets.OfType<PluginProxy.Abstractions.TcpRelay>().Select(r => r.DescribeParking(now)));
            throw new TimeoutException($"{timedOut.Message} (at the deadline: parked {listener.ParkedSessions}, sessions " +
                $"{proxy.Host.Sessions.Count}, heartbeat running {heartbeat.IsRunning}, " +
                $"{targets.Count} timeouts registered, tcp relays: {relays})", timedOut);
        }

        return (listener, client);
    }

    [Fact]
    public async Task ParkedSession_IsResumedByTheClient_AndLogsOneLineAtItsEnd()
    {
        await using StubServer echo = StubServer.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(TcpConfig.For(echo.Address));
        (Listener listener, Socket client) = await ParkedSessionAsync(proxy);
        using (client)
        {
            await client.SendAllAsync("again"u8.ToArray());
            Assert.Equal("again", Encoding.ASCII.GetString(await client.ReadExactlyAsync(5)));
            Assert.Equal(1, echo.Accepted);

            // Parked a second time, then ended by the client: the echo server half-closes back, the session ends.
            await Wait.UntilAsync(() => listener.ParkedSessions == 1, "the session parked again");
            client.Shutdown(SocketShutdown.Send);
            Assert.True(await client.WaitForCloseAsync(), "the client's FIN passed on, the server's came back");
        }

        string line = await proxy.Logs.WaitForSessionAsync(_ => true, "the session's line");
        Assert.Single(proxy.Logs.SessionLines);
        Assert.Contains("normal", line);
        Assert.Equal(0, listener.ParkedSessions);
    }

    [Fact]
    public async Task ParkedSession_IsResumedByTheServer()
    {
        var late = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using StubServer server = new(async socket =>
        {
            var buffer = new byte[16];
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None);
            await socket.SendAsync(buffer.AsMemory(0, n), SocketFlags.None);
            await late.Task;
            await socket.SendAsync("late"u8.ToArray(), SocketFlags.None);
            await socket.ReceiveAsync(buffer, SocketFlags.None);
        });
        await using RunningProxy proxy = await RunningProxy.StartAsync(TcpConfig.For(server.Address));
        (_, Socket client) = await ParkedSessionAsync(proxy);
        using (client)
        {
            late.SetResult();
            Assert.Equal("late", Encoding.ASCII.GetString(await client.ReadExactlyAsync(4)));
        }
    }

    [Fact]
    public async Task ParkedSession_TimesOut_WithTheClientTimeoutInItsLogLine()
    {
        await using StubServer echo = StubServer.Echo();
        // 3 s: the join parks after 1 s idle, and a park the host refuses is tried again a second later; the timeout must
        // leave room for that second try, or the session times out unparked.
        await using RunningProxy proxy = await RunningProxy.StartAsync(TcpConfig.For([echo.Address], listenerExtra: "timeout_client = \"3s\""));
        (Listener listener, Socket client) = await ParkedSessionAsync(proxy);
        using (client)
        {
            Assert.True(await client.WaitForCloseAsync(), "the parked session closed at its client timeout");
        }

        string line = await proxy.Logs.WaitForSessionAsync(l => l.Contains("client_timeout"), "the client timeout in the log");
        Assert.Contains("while parked", line);
        await Wait.UntilAsync(() => listener.ParkedSessions == 0, "the parked session left the lot");
    }

    [Fact]
    public async Task Stop_ClosesParkedSessions_AndLogsThem()
    {
        await using StubServer echo = StubServer.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(TcpConfig.For(echo.Address));
        (_, Socket client) = await ParkedSessionAsync(proxy);
        using (client)
        {
            await proxy.Host.StopAsync(TimeSpan.FromSeconds(30)).WithDeadline("a stop with only a parked session");
            Assert.True(await client.WaitForCloseAsync(), "the parked session closed by the stop");
        }

        await proxy.Logs.WaitForSessionAsync(l => l.Contains("shutdown"), "the stop in the session's line");
    }
}
