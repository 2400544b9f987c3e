using System.Diagnostics;
using System.Net.Sockets;
using PluginProxy.Abstractions;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Backends;

/// <summary>
/// <c>tcp</c> health checks against a server that stops and starts again. A refused connect leaves no trace at the
/// server, so <c>fall</c> and <c>rise</c> are proven by time: each check waits <c>interval</c> after the previous one,
/// so the third consecutive result cannot come sooner than two intervals after the change. Measured, so run alone.
/// </summary>
[Collection(TimingSensitive.Name)]
public class TcpHealthCheckTests
{
    private const int IntervalMs = 400;
    private const int Rise = 3;
    private const int Fall = 3;

    [Fact]
    public async Task TcpCheck_AStoppedServerGoesDownOnlyAfterFallFailures_AndComesBackOnlyAfterRiseSuccesses()
    {
        await using var server = new RestartableServer(EchoAsync);
        string check = $"check = {{ kind = \"tcp\", interval = \"{IntervalMs}ms\", timeout = \"5s\", rise = {Rise}, fall = {Fall} }}";
        await using RunningProxy proxy = await RunningProxy.StartAsync(TcpConfig.For([server.Address], backendExtra: check));
        IServer state = proxy.Host.Backends.Find("app")!.Servers[0];
        await Wait.UntilAsync(() => server.Accepted >= 2, "two tcp checks to connect");
        Assert.True(state.IsUp);
        Assert.True(await EchoesThroughAsync(proxy));

        // Each clock starts before the change it times, so a pause of this test can only lengthen what it measures.
        var stopped = Stopwatch.StartNew();
        await server.StopAsync();
        await Wait.UntilAsync(() => !state.IsUp, "the stopped server to be marked down");
        long downAfter = stopped.ElapsedMilliseconds;

        // Down: clients are no longer sent to it.
        Assert.False(await EchoesThroughAsync(proxy));
        await proxy.Logs.WaitForSessionAsync(l => l.Contains(" no_server "), "a session refused for want of a server");

        var started = Stopwatch.StartNew();
        server.Start();
        await Wait.UntilAsync(() => state.IsUp, "the started server to be marked up");
        long upAfter = started.ElapsedMilliseconds;
        Assert.True(await EchoesThroughAsync(proxy));

        // The first failing (passing) check can come at once; each of the others waited an interval after the one before.
        Assert.True(downAfter >= (Fall - 1) * IntervalMs * 9 / 10, $"down {downAfter} ms after the stop: fewer than {Fall} checks can have failed");
        Assert.True(upAfter >= (Rise - 1) * IntervalMs * 9 / 10, $"up {upAfter} ms after the start: fewer than {Rise} checks can have passed");
        await proxy.Logs.WaitForAsync("PluginProxy.Health", l => l.Contains("app/s1 is DOWN") && l.Contains("ConnectionRefused"), "the server going down, logged with why");
        await proxy.Logs.WaitForAsync("PluginProxy.Health", l => l.Contains("app/s1 is UP"), "the server coming back, logged");
    }

    private static async Task EchoAsync(Socket socket)
    {
        var buffer = new byte[1024];
        int n;
        while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None)) > 0)
        {
            await socket.SendAllAsync(buffer.AsMemory(0, n));
        }
    }

    /// <summary>True when a byte sent through the proxy comes back; false when the proxy closes the client instead.</summary>
    private static async Task<bool> EchoesThroughAsync(RunningProxy proxy)
    {
        using Socket client = await proxy.ConnectAsync();
        try
        {
            await client.SendAllAsync(new byte[] { 42 });
            client.Shutdown(SocketShutdown.Send);
            return (await client.ReadToEndAsync()).SequenceEqual(new byte[] { 42 });
        }
        catch (SocketException)
        {
            // Reset by the proxy: nothing came back.
            return false;
        }
    }
}
