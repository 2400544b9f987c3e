using System.Buffers;
using System.Net.Sockets;
using System.Threading.Tasks.Sources;

namespace PluginProxy.Abstractions;

/// <summary>
/// Joins the client and server transports (plain or TLS) in autonomous mode: two pumps copy bytes each way without waking
/// the supervisor; the supervisor's await completes only when both pumps ended (a close, or an error or timeout that
/// closed both). A FIN read on one side is passed on as a shutdown of the other side's sending half, and the opposite
/// direction keeps flowing until it ends too. The tcp supervisor joins every session with it, the http supervisor a
/// protocol upgrade (a tunnel); any supervisor may use it the same way. One relay serves one join.
/// </summary>
/// <remarks>
/// A pump holds a pooled buffer only while data flows: after a read that did not fill the buffer it gives the buffer
/// back and waits for the next data with a zero-byte read, so an idle session holds no buffer at all. Timeouts are
/// checked by the host's <see cref="IHeartbeat"/> against the last activity of each side: the listener's
/// <c>timeout_client</c>, the backend's <c>timeout_server</c>, or its <c>timeout_tunnel</c> alone when set. Bytes moved are
/// counted in the session's log; how the session ended (a timeout, the side that aborted) is set there too.
/// </remarks>
public sealed class TcpRelay : IValueTaskSource, IExpiring
{
    private readonly ISession _session;
    private readonly Transport _client;
    private readonly Transport _server;
    private readonly int _bufferSize;
    private readonly long _clientTimeout;
    private readonly long _serverTimeout;
    private readonly long _tunnelTimeout;
    private ManualResetValueTaskSourceCore<bool> _completion;
    private int _runningPumps = 2;
    private IHeartbeat? _heartbeat;

    // Environment.TickCount64 of the last byte read from or written to each side.
    private long _clientActivity;
    private long _serverActivity;

    // Parking (ParkAfter): which pumps wait for data (1 client, 2 server), changed under _parkLock once parking is on.
    private object? _parkLock;
    private int _waiting;
    private volatile bool _parked;
    private long _noParkBefore;

    /// <summary>
    /// When set (with <see cref="ParkWith"/>), a join idle both ways for this long is handed to the host
    /// (<see cref="ISession.TryParkJoined"/>), which keeps both connections for a few hundred bytes and resumes the
    /// session when either side sends. Null (the default): never.
    /// </summary>
    public TimeSpan? ParkAfter { get; init; }

    /// <summary>The server connection whose transport is the relay's server side, handed to the host when parking.</summary>
    public ServerConnection? ParkWith { get; init; }

    /// <summary>Prepares the join of <paramref name="client"/> and <paramref name="server"/>; nothing moves before <see cref="RunAsync"/>.</summary>
    /// <param name="session">The session whose log counts the bytes and records how it ended; its listener gives <c>timeout_client</c>.</param>
    /// <param name="client">The client's transport.</param>
    /// <param name="server">The server's transport.</param>
    /// <param name="serverTimeouts">The backend's timeouts (<c>timeout_server</c>, <c>timeout_tunnel</c>).</param>
    /// <param name="bufferSize">The size of the buffer each pump rents while data flows.</param>
    public TcpRelay(ISession session, Transport client, Transport server, ProxyTimeouts serverTimeouts, int bufferSize)
    {
        _session = session;
        _client = client;
        _server = server;
        _bufferSize = bufferSize;
        _clientTimeout = Milliseconds(session.Listener.Timeouts.Client);
        _serverTimeout = Milliseconds(serverTimeouts.Server);
        _tunnelTimeout = Milliseconds(serverTimeouts.Tunnel);
        _clientActivity = _serverActivity = Environment.TickCount64;
        _completion.RunContinuationsAsynchronously = false;
    }

    private static long Milliseconds(TimeSpan? timeout) => timeout is { } t ? (long)t.TotalMilliseconds : long.MaxValue;

    /// <summary>
    /// Starts both pumps, registered with <paramref name="heartbeat"/> for their timeouts until both ended; the returned
    /// task completes then (it never faults: how the join ended is in the session's log). Call it once.
    /// </summary>
    public ValueTask RunAsync(IHeartbeat heartbeat)
    {
        _heartbeat = heartbeat;
        if (ParkAfter is not null && ParkWith is not null && _client is SocketTransport && _server is SocketTransport)
        {
            _parkLock = new object();
        }

        heartbeat.Add(this);
        _ = PumpAsync(_client, _server, fromClient: true);
        _ = PumpAsync(_server, _client, fromClient: false);
        return new ValueTask(this, _completion.Version);
    }

    /// <summary>The parking state at <paramref name="now"/>, for a test's failure message.</summary>
    internal string DescribeParking(long now) =>
        $"parking {(_parkLock is null ? "off" : "on")}, waiting {Volatile.Read(ref _waiting)}, parked {_parked}, pumps {Volatile.Read(ref _runningPumps)}, " +
        $"client idle {now - Volatile.Read(ref _clientActivity)} ms, server idle {now - Volatile.Read(ref _serverActivity)} ms, " +
        $"no park for {Volatile.Read(ref _noParkBefore) - now} ms";

    /// <summary>True when a timeout is due at <paramref name="now"/>.</summary>
    bool IExpiring.IsExpired(long now) => ExpiredReason(now) is not null || ParkDue(now);

    private bool ParkDue(long now) =>
        _parkLock is not null && !_parked && Volatile.Read(ref _waiting) == 3 && now >= Volatile.Read(ref _noParkBefore)
        && now - Math.Max(Volatile.Read(ref _clientActivity), Volatile.Read(ref _serverActivity)) >= (long)ParkAfter!.Value.TotalMilliseconds;

    /// <summary>Parks the join if both pumps still wait for data (under the lock the pumps take when data arrives).</summary>
    private void TryPark(long now)
    {
        lock (_parkLock!)
        {
            if (!ParkDue(now))
            {
                return;
            }

            (long deadline, SessionTermination termination) = ParkedDeadline();
            TimeSpan? timeout = deadline == long.MaxValue ? null : TimeSpan.FromMilliseconds(Math.Max(1, deadline - now));
            // Set first: the host closes the sockets inside the call, and the pumps' failures must read as a park.
            _parked = true;
            if (!_session.TryParkJoined(ParkWith!, timeout, termination))
            {
                _parked = false;
                Volatile.Write(ref _noParkBefore, now + (long)ParkAfter!.Value.TotalMilliseconds);
            }
        }
    }

    /// <summary>When the join's first timeout would pass with no more activity, and which one it is.</summary>
    private (long Deadline, SessionTermination Termination) ParkedDeadline()
    {
        long client = Volatile.Read(ref _clientActivity);
        long server = Volatile.Read(ref _serverActivity);
        if (_tunnelTimeout != long.MaxValue)
        {
            return (Math.Max(client, server) + _tunnelTimeout, SessionTermination.TunnelTimeout);
        }

        long clientDeadline = _clientTimeout == long.MaxValue ? long.MaxValue : client + _clientTimeout;
        long serverDeadline = _serverTimeout == long.MaxValue ? long.MaxValue : server + _serverTimeout;
        return clientDeadline <= serverDeadline
            ? (clientDeadline, SessionTermination.ClientTimeout)
            : (serverDeadline, SessionTermination.ServerTimeout);
    }

    /// <summary>True when the join was parked; waits for a park in progress to settle (it holds the lock).</summary>
    private bool WasParked()
    {
        if (_parkLock is null)
        {
            return false;
        }

        lock (_parkLock)
        {
            return _parked;
        }
    }

    /// <summary>A pump is about to wait for data (parking needs both waiting).</summary>
    private void EnterIdle(bool fromClient)
    {
        if (_parkLock is not null)
        {
            lock (_parkLock)
            {
                _waiting |= fromClient ? 1 : 2;
            }
        }
    }

    /// <summary>Data (or an end) arrived for a waiting pump: false when the join was parked first, and the pump must end quietly.</summary>
    private bool LeaveIdle(bool fromClient)
    {
        if (_parkLock is null)
        {
            return true;
        }

        lock (_parkLock)
        {
            if (_parked)
            {
                return false;
            }

            _waiting &= fromClient ? ~1 : ~2;
            return true;
        }
    }

    private SessionTermination? ExpiredReason(long now)
    {
        long clientIdle = now - Volatile.Read(ref _clientActivity);
        long serverIdle = now - Volatile.Read(ref _serverActivity);
        if (_tunnelTimeout != long.MaxValue)
        {
            // A joined tcp session is a tunnel: the tunnel timeout supersedes the client and server timeouts.
            return Math.Min(clientIdle, serverIdle) >= _tunnelTimeout ? SessionTermination.TunnelTimeout : null;
        }

        return clientIdle >= _clientTimeout ? SessionTermination.ClientTimeout
            : serverIdle >= _serverTimeout ? SessionTermination.ServerTimeout
            : null;
    }

    /// <summary>Ends the session for the timeout that is due.</summary>
    void IExpiring.Expire(long now)
    {
        if (ExpiredReason(now) is { } reason)
        {
            _session.Log.TrySetTermination(reason);
            Abort();
        }
        else if (ParkDue(now))
        {
            TryPark(now);
        }
    }

    private async Task PumpAsync(Transport from, Transport to, bool fromClient)
    {
        byte[]? buffer = null;
        bool reading = true;
        try
        {
            int read = -1; // what the end of an idle wait read, if it read
            while (true)
            {
                reading = true;
                if (buffer is null)
                {
                    // Idle: wait for data without holding memory. Returns at data or end of stream. The socket's zero-byte
                    // read is awaited as is when there is one: the transport's conversion would keep a state machine per
                    // waiting pump (240 B per idle session, gcdump of 3,000).
                    if (from is SocketTransport plain)
                    {
                        while (true)
                        {
                            // Idle for parking only once the read waits in the runtime's epoll set: a pump still inside its
                            // receive call holds the socket, and closing it then (the park does) would make the runtime
                            // disconnect the socket itself, the parked duplicate with it.
                            ValueTask<int> waiting = plain.Socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None);
                            if (waiting.IsCompleted)
                            {
                                // Data, the end or an error, at once: this pump was not idle, so the join cannot have parked.
                                await waiting.ConfigureAwait(false);
                                break;
                            }

                            EnterIdle(fromClient);
                            await waiting.ConfigureAwait(false);
                            if (!LeaveIdle(fromClient))
                            {
                                return; // parked: the host has both connections now
                            }

                            // The runtime completes a waiting zero-byte read at any readiness event of the socket, a stale
                            // one too (an event for data read since): what is there is read without waiting, and with
                            // nothing to read the wait starts again rather than hold a buffer in a read that waits (the
                            // join could not park).
                            buffer = ArrayPool<byte>.Shared.Rent(_bufferSize);
                            read = plain.ReceiveNow(buffer);
                            if (read >= 0)
                            {
                                break;
                            }

                            ArrayPool<byte>.Shared.Return(buffer);
                            buffer = null;
                        }
                    }
                    else
                    {
                        await from.WaitForDataAsync().ConfigureAwait(false);
                        if (!LeaveIdle(fromClient))
                        {
                            return; // parked: the host has both connections now
                        }
                    }

                    buffer ??= ArrayPool<byte>.Shared.Rent(_bufferSize);
                }

                int n = read >= 0 ? read : await from.ReceiveAsync(buffer).ConfigureAwait(false);
                read = -1;
                if (n == 0)
                {
                    // Half-close: pass the FIN on; the other direction keeps flowing. When that direction has ended
                    // already, the join ends now and closing the socket sends the FIN: no shutdown call (a system call
                    // less per connection that ends both ways; TLS still sends its close_notify).
                    reading = false;
                    if (Volatile.Read(ref _runningPumps) == 2 || to is not SocketTransport)
                    {
                        await to.ShutdownSendAsync().ConfigureAwait(false);
                    }

                    return;
                }

                Touch(fromClient);
                if (fromClient)
                {
                    _session.Log.BytesFromClient += n;
                }
                else
                {
                    _session.Log.BytesFromServer += n;
                }

                reading = false;
                await to.SendAsync(buffer.AsMemory(0, n)).ConfigureAwait(false);
                Touch(!fromClient);
                if (n < buffer.Length)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = null;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException or IOException)
        {
            if (WasParked())
            {
                return; // the host closed the sockets to park the join: nothing failed
            }

            // The side that failed decides how the session ended, unless a timeout or shutdown already said so.
            bool clientFailed = reading == fromClient;
            string detail = Describe(ex);
            _session.Log.TrySetTermination(clientFailed ? SessionTermination.ClientAborted : SessionTermination.ServerAborted, detail);
            Abort();
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            if (Interlocked.Decrement(ref _runningPumps) == 0)
            {
                _heartbeat?.Remove(this);
                _completion.SetResult(true);
            }
        }
    }

    private void Touch(bool clientSide)
    {
        if (clientSide)
        {
            Volatile.Write(ref _clientActivity, Environment.TickCount64);
        }
        else
        {
            Volatile.Write(ref _serverActivity, Environment.TickCount64);
        }
    }

    /// <summary>A short reason for a failed read or write, for the session log: the socket error, else what TLS said.</summary>
    public static string Describe(Exception ex) => ex switch
    {
        SocketException se => se.SocketErrorCode.ToString(),
        IOException { InnerException: SocketException se } => se.SocketErrorCode.ToString(),
        IOException io => io.Message,
        _ => "closed",
    };

    /// <summary>Closes both sockets so that both pumps end now.</summary>
    private void Abort()
    {
        _client.Dispose();
        _server.Dispose();
    }

    void IValueTaskSource.GetResult(short token) => _completion.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _completion.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _completion.OnCompleted(continuation, state, token, flags);
}
