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
        heartbeat.Add(this);
        _ = PumpAsync(_client, _server, fromClient: true);
        _ = PumpAsync(_server, _client, fromClient: false);
        return new ValueTask(this, _completion.Version);
    }

    /// <summary>True when a timeout is due at <paramref name="now"/>.</summary>
    bool IExpiring.IsExpired(long now) => ExpiredReason(now) is not null;

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
    }

    private async Task PumpAsync(Transport from, Transport to, bool fromClient)
    {
        byte[]? buffer = null;
        bool reading = true;
        try
        {
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
                        await plain.Socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);
                    }
                    else
                    {
                        await from.WaitForDataAsync().ConfigureAwait(false);
                    }

                    buffer = ArrayPool<byte>.Shared.Rent(_bufferSize);
                }

                int n = await from.ReceiveAsync(buffer).ConfigureAwait(false);
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
