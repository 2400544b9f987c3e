using System.Text;
using PluginProxy.Abstractions;
using PluginProxy.Http.Codec.H2;
using PluginProxy.Http.Engine.H2;
using PluginProxy.Http.Engine.H2.Upstream;
using PluginProxy.Http.Upstream;
using PluginProxy.TestKit;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Http.H2.Upstream;

/// <summary>The pool of HTTP/2 connections to servers, against the server-role connection over loopback sockets (or in memory).</summary>
public class Http2ServerPoolTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private readonly IServer _server = new TestBackend("app").Servers[0];

    private static async Task<string> GetAsync(Http2Lease lease, string path = "/")
    {
        await lease.Stream.WriteRequestHeadAsync("GET", "http", "app.test", path, null, endStream: true);
        Http2UpstreamResponse head = await lease.Stream.ReadResponseHeadAsync();
        Assert.Equal(200, head.Status);
        return Encoding.ASCII.GetString(await Http2ServerConnectionTests.ReadAllAsync(lease.Stream));
    }

    /// <summary>A handler that holds every stream until <see cref="Release"/>, counting those started.</summary>
    private sealed class HeldHandler
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _started;

        public int Started => Volatile.Read(ref _started);

        public void Release() => _release.TrySetResult();

        public async ValueTask HandleAsync(Http2ServerStream stream)
        {
            Interlocked.Increment(ref _started);
            await _release.Task.WaitAsync(stream.Aborted);
            await EchoHandler.HandleAsync(stream);
        }
    }

    [Fact]
    public async Task ManyConcurrentStreams_ShareOneConnection()
    {
        var held = new HeldHandler();
        await using var origin = new H2PoolOrigin(held.HandleAsync);
        var heartbeat = new ManualHeartbeat();
        await using var pool = new Http2ServerPool(heartbeat);

        Http2Lease?[] leases = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => pool.OpenStreamAsync(_server, origin.ConnectAsync, CancellationToken.None).AsTask()));
        Task<string>[] responses = leases.Select((l, i) => GetAsync(l!, $"/{i}")).ToArray();
        await Wait.UntilAsync(() => held.Started == 10, "ten streams at the server");
        held.Release();

        string[] bodies = await Task.WhenAll(responses).WaitAsync(Deadline);
        Assert.All(bodies.Select((b, i) => (b, i)), x => Assert.StartsWith($"GET /{x.i} http app.test", x.b));
        Assert.Single(origin.Connections);
        Assert.Single(leases.Select(l => l!.Connection).Distinct());
        Assert.Single(leases, l => l!.IsNewConnection);
        Assert.Single(pool.ConnectionsTo(_server));
        Assert.Equal(1, heartbeat.Count);
        foreach (Http2Lease? lease in leases)
        {
            lease!.Dispose();
        }

        Assert.Equal(0, pool.ConnectionsTo(_server)[0].ActiveStreams);
    }

    [Fact]
    public async Task ServerAllowingTwoStreams_MakesThePoolOpenASecondConnectionForTheThird()
    {
        var held = new HeldHandler();
        await using var origin = new H2PoolOrigin(held.HandleAsync, new Http2Limits { MaxConcurrentStreams = 2 });
        await using var pool = new Http2ServerPool(new ManualHeartbeat());

        using Http2Lease first = (await pool.OpenStreamAsync(_server, origin.ConnectAsync, CancellationToken.None))!;
        using Http2Lease second = (await pool.OpenStreamAsync(_server, origin.ConnectAsync, CancellationToken.None))!;
        using Http2Lease third = (await pool.OpenStreamAsync(_server, origin.ConnectAsync, CancellationToken.None))!;

        Assert.Same(first.Connection, second.Connection);
        Assert.NotSame(first.Connection, third.Connection);
        Assert.Equal([true, false, true], new[] { first.IsNewConnection, second.IsNewConnection, third.IsNewConnection });
        Assert.Equal(2u, first.Connection.MaxConcurrentStreams);
        Assert.Equal(2, origin.Connections.Count);
        Task<string>[] responses = [GetAsync(first, "/1"), GetAsync(second, "/2"), GetAsync(third, "/3")];
        held.Release();
        Assert.All(await Task.WhenAll(responses).WaitAsync(Deadline), b => Assert.StartsWith("GET /", b));
    }

    [Fact]
    public async Task AtTheConnectionLimit_AStreamWaitsForRoom_UntilItsTokenIsCancelled()
    {
        await using var origin = new H2PoolOrigin(limits: new Http2Limits { MaxConcurrentStreams = 1 });
        await using var pool = new Http2ServerPool(new ManualHeartbeat(), new Http2PoolOptions { MaxConnectionsPerServer = 1 });
        Http2Lease first = (await pool.OpenStreamAsync(_server, origin.ConnectAsync, CancellationToken.None))!;

        using (var cancel = new CancellationTokenSource())
        {
            ValueTask<Http2Lease?> waiting = pool.OpenStreamAsync(_server, origin.ConnectAsync, cancel.Token);
            Assert.False(waiting.IsCompleted);
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await waiting);
        }

        Task<Http2Lease?> next = pool.OpenStreamAsync(_server, origin.ConnectAsync, CancellationToken.None).AsTask();
        Assert.False(next.IsCompleted);
        Assert.StartsWith("GET /first", await GetAsync(first, "/first"));
        first.Dispose();

        using Http2Lease second = (await next.WaitAsync(Deadline))!;
        Assert.Same(first.Connection, second.Connection);
        Assert.StartsWith("GET /second", await GetAsync(second, "/second"));
        Assert.Single(origin.Connections);
    }

    [Fact]
    public async Task AfterAServerGoAway_NewStreamsGoOnAFreshConnection_AndTheOldOneLeavesThePoolClosed()
    {
        await using var origin = new H2PoolOrigin(inMemory: true);
        await using var pool = new Http2ServerPool(new ManualHeartbeat());
        Http2ServerConnection old;
        using (Http2Lease lease = (await pool.OpenStreamAsync(_server, origin.ConnectAsync, CancellationToken.None))!)
        {
            Assert.StartsWith("GET /before", await GetAsync(lease, "/before"));
            old = lease.Connection;
        }

        Assert.True(origin.Connections.TryPeek(out Http2ClientConnection? serverSide));
        serverSide.BeginShutdown();
        await Wait.UntilAsync(() => old.IsDraining, "the GOAWAY to reach the pool's connection");

        using Http2Lease after = (await pool.OpenStreamAsync(_server, origin.ConnectAsync, CancellationToken.None))!;
        Assert.NotSame(old, after.Connection);
        Assert.True(after.IsNewConnection);
        Assert.StartsWith("GET /after", await GetAsync(after, "/after"));
        await Wait.UntilAsync(() => pool.ConnectionsTo(_server).Count == 1 && origin.ClientEnds.First().IsDisposed, "the drained connection to leave the pool, its transport disposed");
        Assert.True(old.IsClosed);
        Assert.Same(after.Connection, Assert.Single(pool.ConnectionsTo(_server)));
    }

    [Fact]
    public async Task AStreamAboveTheGoAwaysLastStreamId_IsRefused_AndARetryThroughThePoolSucceeds()
    {
        await using var origin = new H2PoolOrigin();
        await using var pool = new Http2ServerPool(new ManualHeartbeat());
        Http2Lease refused = (await pool.OpenStreamAsync(_server, origin.ConnectAsync, CancellationToken.None))!;
        Assert.True(origin.Connections.TryPeek(out Http2ClientConnection? serverSide));
        serverSide.BeginShutdown();
        await Wait.UntilAsync(() => refused.Connection.IsDraining, "the GOAWAY to reach the pool's connection");

        var error = await Assert.ThrowsAsync<Http2StreamAbortedException>(async () => await GetAsync(refused, "/first-try"));
        Assert.True(error.WasRefused);
        Assert.True(refused.Stream.WasRefused);
        refused.Dispose();

        using Http2Lease retry = (await pool.OpenStreamAsync(_server, origin.ConnectAsync, CancellationToken.None))!;
        Assert.NotSame(refused.Connection, retry.Connection);
        Assert.StartsWith("GET /retry", await GetAsync(retry, "/retry"));
    }

    [Fact]
    public async Task AStreamResetWithRefusedStream_ReportsWasRefused_AndARetryThroughThePoolSucceeds()
    {
        int requests = 0;
        await using var origin = new H2PoolOrigin(async s =>
        {
            if (Interlocked.Increment(ref requests) == 1)
            {
                s.Reset(Http2ErrorCode.RefusedStream);
                return;
            }

            await EchoHandler.HandleAsync(s);
        });
        await using var pool = new Http2ServerPool(new ManualHeartbeat());

        Http2Lease refused = (await pool.OpenStreamAsync(_server, origin.ConnectAsync, CancellationToken.None))!;
        var error = await Assert.ThrowsAsync<Http2StreamAbortedException>(async () => await GetAsync(refused, "/first-try"));
        Assert.True(error.WasRefused);
        Assert.True(refused.Stream.WasRefused);
        Assert.Equal(Http2ErrorCode.RefusedStream, refused.Stream.ResetCode);
        refused.Dispose();

        using Http2Lease retry = (await pool.OpenStreamAsync(_server, origin.ConnectAsync, CancellationToken.None))!;
        Assert.StartsWith("GET /retry", await GetAsync(retry, "/retry"));
        Assert.Equal(2, requests);
    }

    [Fact]
    public async Task AConnectionIdleForTheIdleTimeout_IsShutDownAndLeavesThePool_OneInUseStays()
    {
        var heartbeat = new ManualHeartbeat();
        var held = new HeldHandler();
        await using var origin = new H2PoolOrigin(async s =>
        {
            if (s.Request.Path == "/held")
            {
                await held.HandleAsync(s);
                return;
            }

            await EchoHandler.HandleAsync(s);
        }, new Http2Limits { MaxConcurrentStreams = 1 }, inMemory: true);
        await using var pool = new Http2ServerPool(heartbeat, new Http2PoolOptions { IdleTimeout = TimeSpan.FromSeconds(30) });
        using Http2Lease busy = (await pool.OpenStreamAsync(_server, origin.ConnectAsync, CancellationToken.None))!;
        Task<string> held1 = GetAsync(busy, "/held");
        Http2ServerConnection idle;
        using (Http2Lease lease = (await pool.OpenStreamAsync(_server, origin.ConnectAsync, CancellationToken.None))!)
        {
            Assert.StartsWith("GET /quick", await GetAsync(lease, "/quick"));
            idle = lease.Connection;
        }

        heartbeat.Advance(TimeSpan.FromSeconds(20));
        Assert.False(idle.IsDraining);
        Assert.Equal(2, pool.ConnectionsTo(_server).Count);

        heartbeat.Advance(TimeSpan.FromSeconds(11));
        Assert.True(idle.IsDraining);
        await Wait.UntilAsync(() => pool.ConnectionsTo(_server).Count == 1 && origin.Ended == 1, "the idle connection to close");
        Assert.True(origin.ClientEnds.Last().IsDisposed);
        Assert.Same(busy.Connection, Assert.Single(pool.ConnectionsTo(_server)));
        Assert.False(busy.Connection.IsDraining);

        held.Release();
        Assert.StartsWith("GET /held", await held1.WaitAsync(Deadline));
    }

    [Fact]
    public async Task Dispose_ShutsDownEveryConnection_DisposesTheTransports_AndLeavesTheHeartbeat()
    {
        var heartbeat = new ManualHeartbeat();
        await using var origin = new H2PoolOrigin(limits: new Http2Limits { MaxConcurrentStreams = 1 }, inMemory: true);
        IServer other = new TestBackend("other").Servers[0];
        var pool = new Http2ServerPool(heartbeat);
        Http2Lease a = (await pool.OpenStreamAsync(_server, origin.ConnectAsync, CancellationToken.None))!;
        Http2Lease b = (await pool.OpenStreamAsync(_server, origin.ConnectAsync, CancellationToken.None))!;
        using (Http2Lease c = (await pool.OpenStreamAsync(other, origin.ConnectAsync, CancellationToken.None))!)
        {
            Assert.StartsWith("GET /c", await GetAsync(c, "/c"));
        }

        Assert.StartsWith("GET /a", await GetAsync(a, "/a"));
        a.Dispose();
        Task<string> stillRunning = GetAsync(b, "/b");
        Assert.Equal(1, heartbeat.Count);

        Task disposed = pool.DisposeAsync().AsTask();
        Assert.Equal(0, heartbeat.Count);
        Assert.StartsWith("GET /b", await stillRunning.WaitAsync(Deadline));
        b.Dispose();
        await disposed.WaitAsync(Deadline);

        Assert.Equal(3, origin.ClientEnds.Count);
        Assert.All(origin.ClientEnds, t => Assert.True(t.IsDisposed));
        Assert.Empty(pool.ConnectionsTo(_server));
        Assert.Empty(pool.ConnectionsTo(other));

        // A session still running while the plugin unloads gets a connection of its own, closed with its lease.
        Http2Lease late = (await pool.OpenStreamAsync(_server, origin.ConnectAsync, CancellationToken.None))!;
        Assert.StartsWith("GET /late", await GetAsync(late, "/late"));
        Assert.Empty(pool.ConnectionsTo(_server));
        late.Dispose();
        await Wait.UntilAsync(() => origin.ClientEnds.Count == 4 && origin.ClientEnds.All(t => t.IsDisposed), "the late connection to close");
    }

    [Fact]
    public async Task ConnectGivingNoTransport_GivesNoLease_AndTheNextAttemptConnectsAgain()
    {
        await using var origin = new H2PoolOrigin();
        await using var pool = new Http2ServerPool(new ManualHeartbeat());

        Assert.Null(await pool.OpenStreamAsync(_server, static _ => ValueTask.FromResult<Transport?>(null), CancellationToken.None));
        Assert.Empty(pool.ConnectionsTo(_server));

        using Http2Lease lease = (await pool.OpenStreamAsync(_server, origin.ConnectAsync, CancellationToken.None))!;
        Assert.StartsWith("GET /", await GetAsync(lease));
    }

    private sealed class RecordedConnection(Transport transport, IServer server) : ServerConnection(transport, server)
    {
        public List<bool> IdleChanges { get; } = [];

        public bool Disposed { get; private set; }

        protected override void OnIdleChanged(bool idle)
        {
            lock (IdleChanges)
            {
                IdleChanges.Add(idle);
            }
        }

        public override void Dispose()
        {
            Disposed = true;
            Transport.Dispose();
        }
    }

    [Fact]
    public async Task WithTheHostsServerConnection_ItIsToldWhenItCarriesNoStream_AndDisposedWhenTheConnectionEnded()
    {
        await using var origin = new H2PoolOrigin(inMemory: true);
        var pool = new Http2ServerPool(new ManualHeartbeat());
        RecordedConnection? made = null;
        Func<CancellationToken, ValueTask<ServerConnection?>> connect = async token =>
        {
            made = new RecordedConnection((await origin.ConnectAsync(token))!, _server);
            return made;
        };

        using (Http2Lease first = (await pool.OpenStreamAsync(_server, connect, CancellationToken.None))!)
        {
            Assert.StartsWith("GET /one", await GetAsync(first, "/one"));
        }

        using (Http2Lease second = (await pool.OpenStreamAsync(_server, connect, CancellationToken.None))!)
        {
            Assert.False(second.IsNewConnection);
            Assert.Equal([true, false], made!.IdleChanges);
        }

        Assert.Equal([true, false, true], made.IdleChanges);
        Assert.False(made.Disposed);
        await pool.DisposeAsync();
        Assert.True(made.Disposed);
    }
}
