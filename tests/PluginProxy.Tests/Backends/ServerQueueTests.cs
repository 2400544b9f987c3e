using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;
using PluginProxy.Host.Backends;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Backends;

/// <summary>
/// A server's <c>maxconn</c> and the queue in front of it, end to end: a stub origin that holds each request until the
/// test lets it answer, so the test knows exactly how many requests the server has and how many wait in the queue.
/// </summary>
public partial class ServerQueueTests
{
    private static string Config(string address, int maxconn, string timeoutQueue) => $$"""
        {{RunningProxy.GlobalSection()}}
        [[listener]]
        name = "web"
        bind = ["127.0.0.1:0"]
        supervisor = "http"
        backend = "app"

        [[backend]]
        name = "app"
        timeout_queue = "{{timeoutQueue}}"
        servers = [{ name = "s", address = "{{address}}", maxconn = {{maxconn}} }]
        """;

    /// <summary>An origin that counts the requests it holds, records their order, and answers one per <see cref="Let"/> (those under /fast at once).</summary>
    private sealed class SlowOrigin : IAsyncDisposable
    {
        private readonly SemaphoreSlim _gate = new(0);
        private int _inFlight;
        private int _maxInFlight;

        public SlowOrigin() => Origin = new HttpOrigin(async (request, socket) =>
        {
            int now = Interlocked.Increment(ref _inFlight);
            InterlockedMax(ref _maxInFlight, now);
            Arrivals.Enqueue(request.Target);
            if (!request.Target.StartsWith("/fast", StringComparison.Ordinal))
            {
                await _gate.WaitAsync();
            }

            Interlocked.Decrement(ref _inFlight);
            await socket.SendAllAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {request.Target.Length}\r\nConnection: close\r\n\r\n{request.Target}"));
            return false;
        });

        public HttpOrigin Origin { get; }

        public ConcurrentQueue<string> Arrivals { get; } = new();

        public int MaxInFlight => Volatile.Read(ref _maxInFlight);

        public void Let(int count = 1) => _gate.Release(count);

        public ValueTask DisposeAsync()
        {
            _gate.Release(1000);
            return Origin.DisposeAsync();
        }

        private static void InterlockedMax(ref int target, int value)
        {
            int seen;
            while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
            {
            }
        }
    }

    [GeneratedRegex(@" app/[-\w]+ (-?\d+)/(-?\d+)/")]
    private static partial Regex Times();

    private static int QueueMs(string line) => int.Parse(Times().Match(line).Groups[2].Value);

    [Fact]
    public async Task MaxConn2_With20Clients_NeverMoreThan2AtTheServer_AndTheRestServedInArrivalOrder()
    {
        await using var origin = new SlowOrigin();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origin.Origin.Address, 2, "30s"));
        Backend backend = proxy.Host.Backends.Backends[0];
        Server server = backend.ServerStates[0];
        var clients = new List<RawHttp>();
        try
        {
            // One client after the other, each once the previous one is at the server or in the queue: the send order is known.
            for (int i = 0; i < 20; i++)
            {
                RawHttp client = await RawHttp.ConnectAsync(proxy);
                clients.Add(client);
                await client.SendAsync($"GET /r{i} HTTP/1.1\r\nHost: a\r\n\r\n");
                int expectedQueue = Math.Max(0, i - 1);
                await Wait.UntilAsync(() => i < 2 ? origin.Arrivals.Count == i + 1 : backend.Queue.Length == expectedQueue, $"request {i} at the server or queued");
            }

            Assert.Equal(2, server.Served);
            Assert.Equal(18, backend.Queue.Length);
            Assert.Equal(18, backend.Queue.MaxQueued);
            Dictionary<string, object?> described = Host.Admin.RuntimeApi.Describe(server);
            Assert.Equal(2, described["maxconn"]);
            Assert.Equal(2, described["slots_in_use"]);

            // The server answers one request at a time: each answer frees one slot, which the oldest waiter takes.
            Task<RawResponse>[] answers = clients.Select(c => c.ReadResponseAsync()).ToArray();
            for (int k = 0; k < 18; k++)
            {
                origin.Let();
                await Wait.UntilAsync(() => origin.Arrivals.Count == k + 3, $"request {k + 2} at the server");
                Assert.Equal(17 - k, backend.Queue.Length);
            }

            origin.Let(2);
            RawResponse[] responses = await Task.WhenAll(answers).WithDeadline("every client answered");

            Assert.All(responses, r => Assert.Equal(200, r.Status));
            Assert.Equal(Enumerable.Range(0, 20).Select(i => $"/r{i}"), responses.Select(r => r.BodyText));
            Assert.Equal(2, origin.MaxInFlight);
            Assert.Equal(Enumerable.Range(0, 20).Select(i => $"/r{i}"), origin.Arrivals);
            await Wait.UntilAsync(() => server.Served == 0, "every slot given back");
            Assert.Equal(0, backend.Queue.Length);

            // The access log has the time each request waited: none for the first two, some for those queued.
            await Wait.UntilAsync(() => proxy.AccessLog.Lines.Count == 20, "20 access-log lines");
            string first = proxy.AccessLog.Lines.Single(l => l.Contains("GET /r0 "));
            string queued = proxy.AccessLog.Lines.Single(l => l.Contains("GET /r2 "));
            Assert.Equal(0, QueueMs(first));
            Assert.True(QueueMs(queued) > 0, queued);
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task QueuedLongerThanTimeoutQueue_Gets503_AndTheLogSaysQueueTimeout()
    {
        await using var origin = new SlowOrigin();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origin.Origin.Address, 1, "200ms"));
        Backend backend = proxy.Host.Backends.Backends[0];
        using RawHttp holder = await RawHttp.ConnectAsync(proxy);
        await holder.SendAsync("GET /held HTTP/1.1\r\nHost: a\r\n\r\n");
        await Wait.UntilAsync(() => origin.Arrivals.Count == 1, "the first request at the server");

        using RawHttp waiter = await RawHttp.ConnectAsync(proxy);
        await waiter.SendAsync("GET /waits HTTP/1.1\r\nHost: a\r\n\r\n");
        RawResponse refused = await waiter.ReadResponseAsync();

        Assert.Equal(503, refused.Status);
        string line = await proxy.AccessLog.WaitForAsync(l => l.Contains("GET /waits "), "the refused request's line");
        Assert.Contains(" queue_timeout ", line);
        Assert.Contains("queue timeout after 200ms", line);
        Assert.True(QueueMs(line) >= 190, line);
        Assert.Equal(1, backend.Queue.Timeouts);
        Assert.Equal(["/held"], origin.Arrivals);

        origin.Let();
        Assert.Equal(200, (await holder.ReadResponseAsync()).Status);
        await Wait.UntilAsync(() => backend.ServerStates[0].Served == 0, "the slot given back");
    }

    [Fact]
    public async Task ClientThatAbortsWhileQueued_OrWhileServed_LeaksNoSlot()
    {
        await using var origin = new SlowOrigin();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origin.Origin.Address, 1, "30s"));
        Backend backend = proxy.Host.Backends.Backends[0];
        Server server = backend.ServerStates[0];

        // The first client is served (its request held at the server), the second queued; both go away.
        RawHttp served = await RawHttp.ConnectAsync(proxy);
        await served.SendAsync("GET /served HTTP/1.1\r\nHost: a\r\n\r\n");
        await Wait.UntilAsync(() => origin.Arrivals.Count == 1, "the first request at the server");
        RawHttp queued = await RawHttp.ConnectAsync(proxy);
        await queued.SendAsync("GET /fast-queued HTTP/1.1\r\nHost: a\r\n\r\n");
        await Wait.UntilAsync(() => backend.Queue.Length == 1, "the second request queued");
        queued.Dispose();
        served.Dispose();

        // The server answers the one it held to nobody; the slot goes round and comes back free.
        origin.Let();
        await Wait.UntilAsync(() => server.Served == 0 && backend.Queue.Length == 0, "no slot held, nobody queued");

        // A server that breaks its connection mid-answer gives its slot back as well (502).
        await using HttpOrigin breaking = new(async (_, socket) =>
        {
            await socket.SendAllAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial"));
            return false;
        });
        await using RunningProxy other = await RunningProxy.StartAsync(Config(breaking.Address, 1, "30s"));
        using (RawHttp client = await RawHttp.ConnectAsync(other))
        {
            await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
            Assert.True(await client.IsClosedAsync(), "the client connection should close when the server breaks off");
        }

        Server broken = other.Host.Backends.Backends[0].ServerStates[0];
        await Wait.UntilAsync(() => broken.Served == 0, "the broken stream's slot given back");

        // And the first proxy still serves.
        using RawHttp next = await RawHttp.ConnectAsync(proxy);
        await next.SendAsync("GET /fast-next HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.Equal(200, (await next.ReadResponseAsync()).Status);
        await Wait.UntilAsync(() => server.Served == 0, "the slot given back");
    }
}
