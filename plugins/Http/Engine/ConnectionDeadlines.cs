using PluginProxy.Abstractions;

namespace PluginProxy.Http.Engine;

/// <summary>
/// The deadlines of one client connection, checked by the host's heartbeat (one coarse timer for every connection):
/// one for the client side, one for the server side, as <see cref="Environment.TickCount64"/> values. When one passes,
/// the connection's pending reads and writes are cancelled and the stream answers (408, 504) or closes; an idle
/// keep-alive connection is simply closed.
/// </summary>
internal sealed class ConnectionDeadlines(Transport client, CancellationToken stopping) : IExpiring, IDisposable
{
    public const int None = 0;
    public const int Client = 1;
    public const int Server = 2;
    public const int Stopping = 3;

    private long _client = long.MaxValue;
    private long _server = long.MaxValue;
    private long _park = long.MaxValue;
    private int _expired;
    private CancellationTokenSource? _cancel;

    /// <summary>Where the stream is; read by the heartbeat thread.</summary>
    public StreamPhase Phase { get; set; }

    /// <summary>Which deadline expired first (<see cref="Client"/>, <see cref="Server"/>, <see cref="Stopping"/>), or <see cref="None"/>.</summary>
    public int Expired => Volatile.Read(ref _expired);

    /// <summary>Cancelled when a deadline of an active stream passes (made at the first request).</summary>
    public CancellationToken Token => (_cancel ??= new CancellationTokenSource()).Token;

    /// <summary>The connection the heartbeat asks to park when the park deadline passes while it is idle, or null.</summary>
    public HttpConnection? Parker { get; init; }

    /// <summary>When an idle connection is parked (<see cref="HttpConnection.TryPark"/>): <paramref name="after"/> from now, or never.</summary>
    public void SetPark(TimeSpan? after) => Volatile.Write(ref _park, At(after));

    public void SetClient(TimeSpan? timeout) => Volatile.Write(ref _client, At(timeout));

    public void SetServer(TimeSpan? timeout) => Volatile.Write(ref _server, At(timeout));

    /// <summary>The client deadline <paramref name="timeout"/> after <paramref name="since"/> (a tick count).</summary>
    public void SetClientFrom(long since, TimeSpan? timeout) =>
        Volatile.Write(ref _client, timeout is { } t ? since + (long)t.TotalMilliseconds : long.MaxValue);

    /// <summary>The server deadline <paramref name="timeout"/> after <paramref name="since"/> (a tick count).</summary>
    public void SetServerFrom(long since, TimeSpan? timeout) =>
        Volatile.Write(ref _server, timeout is { } t ? since + (long)t.TotalMilliseconds : long.MaxValue);

    public void ClearClient() => Volatile.Write(ref _client, long.MaxValue);

    public void Clear()
    {
        Volatile.Write(ref _client, long.MaxValue);
        Volatile.Write(ref _server, long.MaxValue);
    }

    public bool IsExpired(long now) =>
        now >= Volatile.Read(ref _client) || now >= Volatile.Read(ref _server)
        || (Phase == StreamPhase.Idle && (stopping.IsCancellationRequested || now >= Volatile.Read(ref _park)));

    public void Expire(long now)
    {
        if (Phase == StreamPhase.Idle)
        {
            // An idle keep-alive connection (or one that never sent a byte) is closed without an answer.
            if ((now >= Volatile.Read(ref _client) || stopping.IsCancellationRequested) && Interlocked.CompareExchange(ref _expired, Stopping, 0) == 0)
            {
                client.Dispose();
            }
            else if (now >= Volatile.Read(ref _park))
            {
                Volatile.Write(ref _park, long.MaxValue);
                long client = Volatile.Read(ref _client);
                Parker?.TryPark(client == long.MaxValue ? null : TimeSpan.FromMilliseconds(Math.Max(1, client - now)));
            }

            return;
        }

        int side = now >= Volatile.Read(ref _client) ? Client : now >= Volatile.Read(ref _server) ? Server : None;
        if (side != None && Interlocked.CompareExchange(ref _expired, side, 0) == 0)
        {
            // Cancels every pending read and write of this connection; the stream answers (408, 504) or closes.
            _ = _cancel?.CancelAsync();
        }
    }

    /// <summary>
    /// After the server deadline expired (<see cref="Expired"/> is <see cref="Server"/>): clears it and makes a new
    /// <see cref="Token"/>, so that the stream can go on (a retry on another server). False when another deadline or a
    /// stop came first: then the expiry stands.
    /// </summary>
    public bool TryRearmServer()
    {
        Volatile.Write(ref _server, long.MaxValue);
        if (Volatile.Read(ref _expired) != Server)
        {
            return false;
        }

        // The old source stays cancelled for whatever still holds its token; new operations take the new one.
        _cancel = new CancellationTokenSource();
        return Interlocked.CompareExchange(ref _expired, None, Server) == Server;
    }

    /// <summary>Cancels the pending operations at once, as a passed deadline does (an HTTP/2 stream the client reset).</summary>
    public void Abort()
    {
        if (Interlocked.CompareExchange(ref _expired, Stopping, 0) == 0)
        {
            _ = _cancel?.CancelAsync();
        }
    }

    public void Dispose() => _cancel?.Dispose();

    private static long At(TimeSpan? timeout) => timeout is { } t ? Environment.TickCount64 + (long)t.TotalMilliseconds : long.MaxValue;
}
