using System.Collections.Concurrent;
using System.Net.Sockets;
using PluginProxy.Abstractions;
using PluginProxy.Plugins.Shared;

namespace PluginProxy.Http.Upstream;

/// <summary>
/// Idle keep-alive connections to servers, per server, newest first. A connection is only pooled after a complete
/// exchange; one that sat idle for a while is checked before reuse (a server that closed it, or sent something unasked,
/// makes it readable), and idle ones are closed after <see cref="IdleTimeout"/>. One reused at once is not checked: a
/// server does not close a connection within a second of answering on it, and a check costs a system call per request.
/// Should it happen anyway, the supervisor replays an idempotent request on a new connection.
/// </summary>
internal sealed class ServerPool : IExpiring, IDisposable
{
    /// <summary>How long a pooled connection may stay unused (shorter than common server keep-alive timeouts).</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(30);

    private const int MaxIdlePerServer = 512;

    /// <summary>Connections idle for less than this are reused without a readability check.</summary>
    private const long CheckAfterMilliseconds = 1000;

    private readonly ConcurrentDictionary<IServer, Stack<(ServerConnection Connection, long Since)>> _idle = new(ReferenceEqualityComparer.Instance);
    private long _oldest = long.MaxValue;
    private bool _disposed;

    /// <summary>An idle connection to <paramref name="server"/> that still looks usable, or null.</summary>
    public ServerConnection? TryTake(IServer server)
    {
        if (!_idle.TryGetValue(server, out var stack))
        {
            return null;
        }

        while (true)
        {
            (ServerConnection Connection, long Since) entry;
            lock (stack)
            {
                if (!stack.TryPop(out entry))
                {
                    return null;
                }
            }

            if (Environment.TickCount64 - entry.Since < CheckAfterMilliseconds || IsUsable(entry.Connection.Transport))
            {
                return entry.Connection;
            }

            entry.Connection.Dispose();
        }
    }

    private static bool IsUsable(Transport transport)
    {
        try
        {
            // Readable while idle means the server closed it (or sent bytes nobody asked for): either way, unusable.
            // Except over TLS, where a server may send session tickets after the handshake: only an end of stream counts.
            Socket socket = transport.Socket;
            return !socket.Poll(0, SelectMode.SelectRead) || (transport.Tls is not null && socket.Available > 0);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Keeps <paramref name="connection"/> for reuse (or closes it if the pool is full or gone).</summary>
    public void Return(ServerConnection connection)
    {
        var stack = _idle.GetOrAdd(connection.Server, static _ => new Stack<(ServerConnection, long)>());
        long now = Environment.TickCount64;
        lock (stack)
        {
            if (!_disposed && stack.Count < MaxIdlePerServer)
            {
                stack.Push((connection, now));
                if (now < Volatile.Read(ref _oldest))
                {
                    Volatile.Write(ref _oldest, now);
                }

                return;
            }
        }

        connection.Dispose();
    }

    public bool IsExpired(long now) => now - Volatile.Read(ref _oldest) >= (long)IdleTimeout.TotalMilliseconds;

    /// <summary>Closes the connections idle for longer than <see cref="IdleTimeout"/>.</summary>
    public void Expire(long now)
    {
        long limit = (long)IdleTimeout.TotalMilliseconds;
        long oldest = long.MaxValue;
        foreach (var stack in _idle.Values)
        {
            List<ServerConnection>? stale = null;
            lock (stack)
            {
                if (stack.Count == 0)
                {
                    continue;
                }

                var keep = stack.ToArray();
                stack.Clear();
                // ToArray lists newest first; push back oldest first to keep the order.
                for (int i = keep.Length - 1; i >= 0; i--)
                {
                    if (now - keep[i].Since >= limit)
                    {
                        (stale ??= []).Add(keep[i].Connection);
                    }
                    else
                    {
                        stack.Push(keep[i]);
                        oldest = Math.Min(oldest, keep[i].Since);
                    }
                }
            }

            stale?.ForEach(c => c.Dispose());
        }

        Volatile.Write(ref _oldest, oldest);
    }

    /// <summary>Closes every idle connection (this plugin version is being unloaded).</summary>
    public void Dispose()
    {
        foreach (var stack in _idle.Values)
        {
            lock (stack)
            {
                _disposed = true;
                while (stack.TryPop(out var entry))
                {
                    entry.Connection.Dispose();
                }
            }
        }

        _disposed = true;
    }
}
