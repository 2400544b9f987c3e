using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Tcp;

/// <summary>The tcp supervisor end to end: a real host, the plugin loaded from plugins/bin, stub servers on loopback.</summary>
public class TcpForwardingTests
{
    [Fact]
    public async Task OneByte_GoesThroughAndBack()
    {
        await using StubServer echo = StubServer.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(TcpConfig.For(echo.Address));
        using Socket client = await proxy.ConnectAsync();

        await client.SendAllAsync(new byte[] { 0x5A });
        byte[] back = await client.ReadExactlyAsync(1);

        Assert.Equal(0x5A, back[0]);
    }

    [Fact]
    public async Task SeveralMegabytes_AreForwardedByteExact_InBothDirections()
    {
        byte[] upload = RandomNumberGenerator.GetBytes(6 * 1024 * 1024 + 13);
        byte[] download = RandomNumberGenerator.GetBytes(5 * 1024 * 1024 + 7);
        var serverReceived = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = new StubServer(async socket =>
        {
            // Send while receiving, so both directions are busy at once.
            Task sending = socket.SendAllAsync(download);
            byte[] received = await socket.ReadToEndAsync(TimeSpan.FromSeconds(30));
            await sending;
            socket.Shutdown(SocketShutdown.Send);
            serverReceived.SetResult(received);
        });
        await using RunningProxy proxy = await RunningProxy.StartAsync(TcpConfig.For(server.Address));
        using Socket client = await proxy.ConnectAsync();

        Task<byte[]> clientReceiving = client.ReadToEndAsync(TimeSpan.FromSeconds(30));
        await client.SendAllAsync(upload);
        client.Shutdown(SocketShutdown.Send);

        byte[] clientReceived = await clientReceiving;
        byte[] atServer = await serverReceived.Task.WithDeadline("server received everything");
        Assert.Equal(SHA256.HashData(upload), SHA256.HashData(atServer));
        Assert.Equal(upload.Length, atServer.Length);
        Assert.Equal(SHA256.HashData(download), SHA256.HashData(clientReceived));
        string line = await proxy.Logs.WaitForSessionAsync(l => l.Contains("tcp-in app/s1"), "the session log line");
        Assert.Contains($"in={upload.Length} out={download.Length} normal", line);
    }

    [Fact]
    public async Task ClientHalfClose_ReachesTheServer_AndTheResponseStillFlows()
    {
        await using var server = new StubServer(async socket =>
        {
            // Answer only once the request is complete, i.e. once the client's FIN arrived.
            byte[] request = await socket.ReadToEndAsync();
            await socket.SendAllAsync(Encoding.ASCII.GetBytes("got " + Encoding.ASCII.GetString(request)));
            socket.Shutdown(SocketShutdown.Send);
        });
        await using RunningProxy proxy = await RunningProxy.StartAsync(TcpConfig.For(server.Address));
        using Socket client = await proxy.ConnectAsync();

        await client.SendAllAsync(Encoding.ASCII.GetBytes("question"));
        client.Shutdown(SocketShutdown.Send);

        Assert.Equal("got question", Encoding.ASCII.GetString(await client.ReadToEndAsync()));
        await proxy.Logs.WaitForSessionAsync(l => l.Contains(" normal "), "a normal end");
    }

    [Fact]
    public async Task ServerHalfClose_ReachesTheClient_AndTheRequestStillFlows()
    {
        var serverGot = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = new StubServer(async socket =>
        {
            await socket.SendAllAsync(Encoding.ASCII.GetBytes("banner"));
            socket.Shutdown(SocketShutdown.Send);
            serverGot.SetResult(Encoding.ASCII.GetString(await socket.ReadToEndAsync()));
        });
        await using RunningProxy proxy = await RunningProxy.StartAsync(TcpConfig.For(server.Address));
        using Socket client = await proxy.ConnectAsync();

        // The server's FIN arrives as end of stream, while our sending half stays open.
        Assert.Equal("banner", Encoding.ASCII.GetString(await client.ReadToEndAsync()));
        await client.SendAllAsync(Encoding.ASCII.GetBytes("still talking"));
        client.Shutdown(SocketShutdown.Send);

        Assert.Equal("still talking", await serverGot.Task.WithDeadline("the server read the client's data after its own FIN"));
    }

    [Fact]
    public async Task DeadServer_IsSkippedForALiveOne()
    {
        using var dead = new DeadPort();
        await using StubServer live = StubServer.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(TcpConfig.For(dead.Address, live.Address));

        for (int i = 0; i < 4; i++)
        {
            using Socket client = await proxy.ConnectAsync();
            await client.SendAllAsync(new byte[] { (byte)i });
            Assert.Equal((byte)i, (await client.ReadExactlyAsync(1))[0]);
        }

        Assert.Equal(4, live.Accepted);
        string retried = await proxy.Logs.WaitForSessionAsync(l => l.Contains("retries=1"), "a session that retried");
        Assert.Contains("app/s2", retried);
        var deadServer = proxy.Host.Backends.Backends[0].ServerStates[0];
        Assert.True(deadServer.FailedConnections >= 1);
    }

    [Fact]
    public async Task NoServerAnswering_ClosesTheClient_AndLogsWhy()
    {
        using var dead1 = new DeadPort();
        using var dead2 = new DeadPort();
        await using RunningProxy proxy = await RunningProxy.StartAsync(TcpConfig.For(dead1.Address, dead2.Address));
        using Socket client = await proxy.ConnectAsync();

        Assert.True(await client.WaitForCloseAsync(), "the proxy should close the client");
        string line = await proxy.Logs.WaitForSessionAsync(l => l.Contains("server_refused"), "the refused session");
        Assert.Contains("retries=3", line);
        Assert.Contains("ConnectionRefused", line);
    }

    [Fact]
    public async Task ServerReset_EndsTheSession_AsServerAborted()
    {
        await using var server = new StubServer(async socket =>
        {
            await socket.ReadExactlyAsync(1);
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        });
        await using RunningProxy proxy = await RunningProxy.StartAsync(TcpConfig.For(server.Address));
        using Socket client = await proxy.ConnectAsync();

        await client.SendAllAsync(new byte[] { 1 });

        Assert.True(await client.WaitForCloseAsync());
        await proxy.Logs.WaitForSessionAsync(l => l.Contains("server_aborted"), "the server reset in the log");
    }
}
