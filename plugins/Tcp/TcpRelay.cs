using System.Buffers;
using System.Net.Sockets;
using PluginProxy.Abstractions;

namespace PluginProxy.Tcp;

/// <summary>
/// Joins the client and server sockets in autonomous mode: two pumps copy bytes each way without waking the supervisor;
/// the supervisor only wakes when a timeout is due or both pumps ended. A FIN read on one side is passed on as a
/// shutdown of the other side's sending half, and the opposite direction keeps flowing until it ends too.
/// </summary>
/// <remarks>
/// A pump holds a pooled buffer only while data flows: after a read that did not fill the buffer it gives the buffer
/// back and waits for the next data with a zero-byte read, so an idle session holds no buffer at all.
/// </remarks>
internal sealed class TcpRelay
{
    private readonly ISession _session;
    private readonly Socket _client;
    private readonly Socket _server;
    private readonly ProxyTimeouts _serverTimeouts;
    private readonly int _bufferSize;

    // Environment.TickCount64 of the last byte read from or written to each side.
    private long _clientActivity;
    private long _serverActivity;

    public TcpRelay(ISession session, Socket client, Socket server, ProxyTimeouts serverTimeouts, int bufferSize)
    {
        _session = session;
        _client = client;
        _server = server;
        _serverTimeouts = serverTimeouts;
        _bufferSize = bufferSize;
        _clientActivity = _serverActivity = Environment.TickCount64;
    }

    public async Task RunAsync()
    {
        Task upstream = PumpAsync(_client, _server, fromClient: true);
        Task downstream = PumpAsync(_server, _client, fromClient: false);
        Task both = Task.WhenAll(upstream, downstream);
        TimeSpan? clientTimeout = _session.Listener.Timeouts.Client;
        TimeSpan? serverTimeout = _serverTimeouts.Server;
        TimeSpan? tunnelTimeout = _serverTimeouts.Tunnel;
        while (!both.IsCompleted)
        {
            long now = Environment.TickCount64;
            long clientIdle = now - Volatile.Read(ref _clientActivity);
            long serverIdle = now - Volatile.Read(ref _serverActivity);
            long wait;
            SessionTermination? expired = null;
            if (tunnelTimeout is { } tunnel)
            {
                // A joined tcp session is a tunnel: the tunnel timeout supersedes the client and server timeouts.
                long idle = Math.Min(clientIdle, serverIdle);
                wait = (long)tunnel.TotalMilliseconds - idle;
                if (wait <= 0)
                {
                    expired = SessionTermination.TunnelTimeout;
                }
            }
            else
            {
                long clientLeft = clientTimeout is { } c ? (long)c.TotalMilliseconds - clientIdle : long.MaxValue;
                long serverLeft = serverTimeout is { } s ? (long)s.TotalMilliseconds - serverIdle : long.MaxValue;
                wait = Math.Min(clientLeft, serverLeft);
                if (clientLeft <= 0)
                {
                    expired = SessionTermination.ClientTimeout;
                }
                else if (serverLeft <= 0)
                {
                    expired = SessionTermination.ServerTimeout;
                }
            }

            if (expired is { } reason)
            {
                _session.Log.TrySetTermination(reason);
                Abort();
                break;
            }

            if (wait == long.MaxValue)
            {
                await Task.WhenAny(both, Task.Delay(Timeout.Infinite, _session.Aborted)).ConfigureAwait(false);
                if (_session.Aborted.IsCancellationRequested)
                {
                    Abort();
                    break;
                }
            }
            else
            {
                // Woken at the earliest time a timeout could expire; activity since then just pushes it further.
                await Task.WhenAny(both, Task.Delay(TimeSpan.FromMilliseconds(wait + 1), _session.Aborted)).ConfigureAwait(false);
            }
        }

        try
        {
            await both.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Pumps record their own failure in the session log; nothing more to do here.
        }
    }

    private async Task PumpAsync(Socket from, Socket to, bool fromClient)
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
                    // Idle: wait for data without holding memory. Returns at data or end of stream.
                    await from.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);
                    buffer = ArrayPool<byte>.Shared.Rent(_bufferSize);
                }

                int n = await from.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false);
                if (n == 0)
                {
                    // Half-close: pass the FIN on; the other direction keeps flowing.
                    reading = false;
                    to.Shutdown(SocketShutdown.Send);
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
                await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None).ConfigureAwait(false);
                Touch(!fromClient);
                if (n < buffer.Length)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = null;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The side that failed decides how the session ended, unless a timeout or shutdown already said so.
            bool clientFailed = reading == fromClient;
            string detail = ex is SocketException se ? se.SocketErrorCode.ToString() : "closed";
            _session.Log.TrySetTermination(clientFailed ? SessionTermination.ClientAborted : SessionTermination.ServerAborted, detail);
            Abort();
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
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

    /// <summary>Closes both sockets so that both pumps end now.</summary>
    private void Abort()
    {
        _client.Dispose();
        _server.Dispose();
    }
}
