using System.Net.Sockets;
using PluginProxy.Host.Accept;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Http;

/// <summary>
/// Idle HTTP/1.1 client connections parked by the host (<c>park_idle_after</c>): the session ends, the connection stays
/// open, and the client's next request is served by a new session on the same connection.
/// </summary>
public class HttpParkingTests
{
    private const string ParkAtOnce = "park_idle_after = \"1ms\"";

    /// <summary>A client connection of the "web" listener that made one request and is parked now.</summary>
    private static async Task<(Listener Listener, RawHttp Client)> ParkedClientAsync(RunningProxy proxy)
    {
        Listener listener = proxy.Host.FindListener("web")!;
        RawHttp client = await RawHttp.ConnectAsync(proxy);
        await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        await client.ReadResponseAsync();
        await Wait.UntilAsync(() => listener.ParkedSessions == 1, "the connection parked");
        return (listener, client);
    }

    [Fact]
    public async Task IdleConnection_IsParked_AndItsNextRequestIsServed()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, ParkAtOnce));
        Listener listener = proxy.Host.FindListener("web")!;
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        for (int i = 1; i <= 3; i++)
        {
            await client.SendAsync($"GET /round{i} HTTP/1.1\r\nHost: a\r\n\r\n");
            RawResponse response = await client.ReadResponseAsync();
            Assert.Equal(200, response.Status);
            Assert.Equal($"GET /round{i} body=0\n", response.BodyText);
            await Wait.UntilAsync(() => listener.ParkedSessions == 1 && proxy.Host.Sessions.Count == 0, $"the connection parked after request {i}");
        }

        Assert.Equal(1, origin.Connections);
        Assert.Equal(3, proxy.AccessLog.Lines.Count);
        // One client connection all along: every line names the client's own address and port.
        string clientAddress = client.Socket.LocalEndPoint!.ToString()!;
        Assert.All(proxy.AccessLog.Lines, line => Assert.StartsWith(clientAddress + " ", line));
    }

    [Fact]
    public async Task ParkedConnection_IsClosedWithAFin_WhenTheKeepAliveTimeoutPasses()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, ParkAtOnce + "\ntimeout_keep_alive = \"400ms\""));
        (Listener listener, RawHttp parked) = await ParkedClientAsync(proxy);
        using RawHttp client = parked;

        // An orderly close (read returns 0), not a reset: the runtime's abort of the socket's pending read must not leak
        // a zero linger onto the connection the parking lot keeps.
        client.Socket.ReceiveTimeout = (int)Wait.DefaultDeadline.TotalMilliseconds;
        int read = await Task.Run(() => client.Socket.Receive(new byte[16]));
        Assert.Equal(0, read);
        await Wait.UntilAsync(() => listener.ParkedSessions == 0, "the parked connection left the parking lot");
    }

    [Fact]
    public async Task ClientLeavingWhileParked_FreesItsMaxconnSlot()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, ParkAtOnce + "\nmaxconn = 1"));
        (Listener listener, RawHttp first) = await ParkedClientAsync(proxy);
        first.Dispose();

        await Wait.UntilAsync(() => listener.ParkedSessions == 0, "the parked connection closed by its client left the lot");
        using RawHttp second = await RawHttp.ConnectAsync(proxy);
        await second.SendAsync("GET /second HTTP/1.1\r\nHost: a\r\n\r\n");
        RawResponse response = await second.ReadResponseAsync().WithDeadline("the second client served in the freed slot");
        Assert.Equal(200, response.Status);
    }

    [Fact]
    public async Task Stop_ClosesParkedConnections_AtOnce()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, ParkAtOnce));
        (Listener listener, RawHttp parked) = await ParkedClientAsync(proxy);
        using RawHttp client = parked;

        await proxy.Host.StopAsync(TimeSpan.FromSeconds(30)).WithDeadline("a stop with only a parked connection");
        Assert.True(await client.IsClosedAsync(), "the parked connection must be closed by the stop");
        Assert.Equal(0, listener.ParkedSessions);
    }

    [Fact]
    public async Task ParkedConnection_IsNotParkedWhenParkingIsOff_AndStillServed()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, "park_idle_after = \"1h\""));
        Listener listener = proxy.Host.FindListener("web")!;
        using RawHttp client = await RawHttp.ConnectAsync(proxy);
        await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        await client.ReadResponseAsync();
        await Wait.UntilAsync(() => proxy.Host.Sessions.Count == 1, "the session waiting for the next request");
        Assert.Equal(0, listener.ParkedSessions);
        await client.SendAsync("GET /again HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.Equal(200, (await client.ReadResponseAsync()).Status);
    }

    [Fact]
    public async Task BurstOfParkedConnections_IsFollowedByAHeapTrim_Logged()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, ParkAtOnce));
        proxy.Host.Sessions.Parking!.TrimBurst = 3;
        Listener listener = proxy.Host.FindListener("web")!;
        var clients = new List<RawHttp>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                RawHttp client = await RawHttp.ConnectAsync(proxy);
                clients.Add(client);
                await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
                await client.ReadResponseAsync();
            }

            await Wait.UntilAsync(() => listener.ParkedSessions == 3, "three connections parked");
            string line = await proxy.Logs.WaitForAsync("PluginProxy.Listener", l => l.Contains("idle connections parked: heap compacted"), "the trim after the burst");
            Assert.StartsWith("3 idle connections parked", line);

            // The trim leaves the parked connections as they were.
            await clients[0].SendAsync("GET /after HTTP/1.1\r\nHost: a\r\n\r\n");
            Assert.Equal(200, (await clients[0].ReadResponseAsync()).Status);
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public void ParkingLot_IsAvailableOnThisRuntime()
    {
        // Parking reads the runtime socket engine's epoll descriptors by reflection: a runtime update that renames them
        // must fail here, not silently turn parking off.
        using ParkingLot? lot = ParkingLot.Create(out string? whyNot);
        Assert.True(lot is not null, whyNot);
    }
}
