using System.Net.Sockets;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Tcp;

/// <summary>
/// The tcp supervisor's timeouts: each test needs a short timeout to pass (or not) while a round trip completes, so
/// they run alone, never beside a test that stops the process for a garbage collection.
/// </summary>
[Collection(TimingSensitive.Name)]
public class TcpTimeoutTests
{
    [Fact]
    public async Task ConnectTimeout_GivesUpWithinTheTimeout()
    {
        using BlackHolePort hole = await BlackHolePort.CreateAsync();
        await using RunningProxy proxy = await RunningProxy.StartAsync(
            TcpConfig.For([hole.Address], backendExtra: "timeout_connect = \"200ms\"\nretries = 1"));
        using Socket client = await proxy.ConnectAsync();

        var started = System.Diagnostics.Stopwatch.StartNew();
        Assert.True(await client.WaitForCloseAsync(), "the proxy should give up and close the client");

        // Two attempts of 200ms each: well before the kernel's own connect timeout of minutes.
        Assert.InRange(started.ElapsedMilliseconds, 350, 5000);
        string line = await proxy.Logs.WaitForSessionAsync(l => l.Contains("connect_timeout"), "the timed-out session");
        Assert.Contains("retries=1", line);
    }

    [Fact]
    public async Task IdleClient_IsClosedAfterTimeoutClient()
    {
        await using StubServer echo = StubServer.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(
            TcpConfig.For([echo.Address], listenerExtra: "timeout_client = \"300ms\""));
        using Socket client = await proxy.ConnectAsync();
        await client.SendAllAsync(new byte[] { 1 });
        await client.ReadExactlyAsync(1);

        var idle = System.Diagnostics.Stopwatch.StartNew();
        Assert.True(await client.WaitForCloseAsync(), "the idle client should be closed");

        Assert.True(idle.ElapsedMilliseconds >= 250, $"closed after {idle.ElapsedMilliseconds}ms, before the timeout");
        await proxy.Logs.WaitForSessionAsync(l => l.Contains("client_timeout"), "the client timeout in the log");
    }

    [Fact]
    public async Task ActiveTransfer_KeepsTheSessionAlivePastTheIdleTimeout()
    {
        await using StubServer echo = StubServer.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(
            TcpConfig.For([echo.Address], listenerExtra: "timeout_client = \"1s\"", backendExtra: "timeout_server = \"1s\""));
        using Socket client = await proxy.ConnectAsync();

        // Traffic every 100ms for well over the timeout: never idle long enough to be closed. The timeout leaves a loaded
        // machine ten times the cadence (a 300 ms timeout was once missed by a test process starved of CPU).
        var running = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; running.ElapsedMilliseconds < 2500; i++)
        {
            await client.SendAllAsync(new byte[] { (byte)i });
            Assert.Equal((byte)i, (await client.ReadExactlyAsync(1))[0]);
            await Task.Delay(100);
        }

        Assert.Empty(proxy.Logs.SessionLines);
    }

    [Fact]
    public async Task IdleTunnel_IsClosedAfterTimeoutTunnel_WhichSupersedesTheOthers()
    {
        await using StubServer echo = StubServer.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(
            TcpConfig.For([echo.Address], listenerExtra: "timeout_client = \"1h\"", backendExtra: "timeout_server = \"1h\"\ntimeout_tunnel = \"300ms\""));
        using Socket client = await proxy.ConnectAsync();
        await client.SendAllAsync(new byte[] { 1 });
        await client.ReadExactlyAsync(1);

        Assert.True(await client.WaitForCloseAsync(), "the idle tunnel should be closed");
        await proxy.Logs.WaitForSessionAsync(l => l.Contains("tunnel_timeout"), "the tunnel timeout in the log");
    }
}
