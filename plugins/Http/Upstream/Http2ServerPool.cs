using System.Collections.Concurrent;
using PluginProxy.Abstractions;
using PluginProxy.Http.Engine.H2.Upstream;

namespace PluginProxy.Http.Upstream;

/// <summary>
/// The HTTP/2 connections to servers (<c>proto = "h2"</c>), a few per server, each carrying many streams.
/// <see cref="OpenStreamAsync(IServer, Func{CancellationToken, ValueTask{Transport}}, CancellationToken)"/> gives a
/// stream on the oldest connection to the server that has room (not draining, fewer streams than the server's
/// MAX_CONCURRENT_STREAMS), else opens a connection, up to <see cref="Http2PoolOptions.MaxConnectionsPerServer"/> that
/// take streams; past that, it waits for room until its token is cancelled.
/// </summary>
/// <remarks>
/// A connection joins the pool when it is connected and takes streams once the server's first SETTINGS arrived (its
/// stream limit is known then); while one is connecting or waiting for SETTINGS, other streams to that server wait for
/// it rather than open more. A connection that ended (the server closed it, a connection error, or a GOAWAY whose
/// streams finished) leaves the pool and its transport is disposed. One that held no stream for
/// <see cref="Http2PoolOptions.IdleTimeout"/> is shut down (GOAWAY) on a beat of the host's heartbeat, which the pool
/// registers with (<see cref="IExpiring"/>). A stream the server refused (<see cref="Http2ClientStream.WasRefused"/>)
/// may be sent again through the pool: the refusing connection is draining by then or had no room, so another is used.
/// After <see cref="Dispose"/> every connection is shut down; a stream asked for later gets a connection of its own,
/// outside the pool, shut down when its lease is disposed (for sessions still running while the plugin unloads).
/// </remarks>
internal sealed partial class Http2ServerPool : IExpiring, IDisposable, IAsyncDisposable
{
    private readonly ConcurrentDictionary<IServer, Http2ServerConnections> _servers = new(ReferenceEqualityComparer.Instance);
    private readonly IHeartbeat _heartbeat;
    private readonly Http2PoolOptions _options;
    private readonly long _idleLimit;
    private int _pooled;
    private volatile bool _disposed;

    /// <param name="heartbeat">The host's heartbeat: the pool registers to close idle connections, and leaves it on dispose.</param>
    /// <param name="options">Limits (null: <see cref="Http2PoolOptions.Default"/>).</param>
    public Http2ServerPool(IHeartbeat heartbeat, Http2PoolOptions? options = null)
    {
        _options = options ?? Http2PoolOptions.Default;
        _options.Validate();
        _idleLimit = (long)_options.IdleTimeout.TotalMilliseconds;
        _heartbeat = heartbeat;
        heartbeat.Add(this);
    }

    /// <summary>
    /// A stream to <paramref name="server"/>: on a pooled connection with room, else on a new one made with
    /// <paramref name="connect"/> (a connected transport: TLS with ALPN h2, or plain h2c), whose reader starts in the
    /// background. Null when <paramref name="connect"/> gave no transport, or the new connection ended before the
    /// server's SETTINGS; the failure's detail is the caller's (its <paramref name="connect"/> saw it).
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="token"/> was cancelled while connecting or waiting for room.</exception>
    public ValueTask<Http2Lease?> OpenStreamAsync(IServer server, Func<CancellationToken, ValueTask<Transport?>> connect, CancellationToken token)
        => OpenAsync(server, connect, null, token);

    /// <summary>
    /// As <see cref="OpenStreamAsync(IServer, Func{CancellationToken, ValueTask{Transport}}, CancellationToken)"/>, with
    /// the host's server connection record: disposed when the connection ended, and told when the connection carries
    /// streams or none (<see cref="ServerConnection.SetIdle"/>, what <c>leastconn</c> counts).
    /// </summary>
    public ValueTask<Http2Lease?> OpenStreamAsync(IServer server, Func<CancellationToken, ValueTask<ServerConnection?>> connect, CancellationToken token)
        => OpenAsync(server, null, connect, token);

    /// <summary>The pooled connections to <paramref name="server"/> now, oldest first (draining ones included).</summary>
    public IReadOnlyList<Http2ServerConnection> ConnectionsTo(IServer server)
    {
        if (!_servers.TryGetValue(server, out Http2ServerConnections? entry))
        {
            return [];
        }

        lock (entry.Gate)
        {
            return entry.Connections.ConvertAll(static c => c.Connection);
        }
    }

    /// <summary>True while any connection is pooled: then every beat looks for idle ones.</summary>
    public bool IsExpired(long now) => Volatile.Read(ref _pooled) > 0;

    /// <summary>Shuts down (GOAWAY) the connections that held no stream for the idle timeout; they leave the pool once closed.</summary>
    public void Expire(long now)
    {
        foreach (Http2ServerConnections entry in _servers.Values)
        {
            lock (entry.Gate)
            {
                // Under the gate no stream can be opened on a connection between the check and its shutdown.
                foreach (Http2PooledConnection pooled in entry.Connections)
                {
                    if (pooled.Leases == 0 && pooled.Ready && now - pooled.IdleSince >= _idleLimit && !pooled.Connection.IsDraining)
                    {
                        pooled.Connection.BeginShutdown();
                    }
                }
            }
        }
    }

    /// <summary>Shuts down every connection (GOAWAY; their open streams finish); transports are disposed as each one ends.</summary>
    public void Dispose() => ShutdownAll();

    /// <summary>Shuts down every connection and waits until each ended and its transport was disposed.</summary>
    public async ValueTask DisposeAsync() => await Task.WhenAll(ShutdownAll()).ConfigureAwait(false);

    /// <summary>A lease was disposed.</summary>
    internal void Release(Http2ServerConnections entry, Http2PooledConnection pooled)
    {
        bool shutdown;
        lock (entry.Gate)
        {
            pooled.OnReleased();
            entry.SignalLocked();
            shutdown = !pooled.Pooled && pooled.Leases == 0;
        }

        if (shutdown)
        {
            pooled.Connection.BeginShutdown();
        }
    }

    private async ValueTask<Http2Lease?> OpenAsync(IServer server, Func<CancellationToken, ValueTask<Transport?>>? connectTransport,
        Func<CancellationToken, ValueTask<ServerConnection?>>? connectServer, CancellationToken token)
    {
        Http2ServerConnections entry = _servers.GetOrAdd(server, static _ => new Http2ServerConnections());
        while (true)
        {
            Task? changed = null;
            lock (entry.Gate)
            {
                if (TryLeaseLocked(entry, server, out Http2Lease? lease))
                {
                    return lease;
                }

                if (ShouldConnectLocked(entry))
                {
                    // Readiness (the server's SETTINGS) is not under the gate: a connection that was not ready at the first
                    // look may be now, and ShouldConnectLocked saw every one ready. Look again before making another.
                    if (TryLeaseLocked(entry, server, out lease))
                    {
                        return lease;
                    }

                    entry.Connecting++;
                }
                else
                {
                    changed = entry.Changed;
                }
            }

            if (changed is not null)
            {
                await changed.WaitAsync(token).ConfigureAwait(false);
                continue;
            }

            Http2PooledConnection? pooled = await ConnectAsync(entry, connectTransport, connectServer, token).ConfigureAwait(false);
            if (pooled is null)
            {
                return null;
            }

            try
            {
                await pooled.Connection.SettingsReceived.WaitAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!pooled.Pooled)
            {
                pooled.Connection.BeginShutdown();
                throw;
            }

            if (pooled.Connection.IsClosed)
            {
                return null;
            }

            lock (entry.Gate)
            {
                if (TryLeaseOnLocked(entry, pooled, server, newConnection: true, out Http2Lease? lease))
                {
                    return lease;
                }
            }

            if (!pooled.Pooled)
            {
                pooled.Connection.BeginShutdown();
                return null;
            }

            // Its room was taken by streams that waited for it (or the server allows none): look again.
        }
    }

    /// <summary>A stream on the oldest ready connection with room.</summary>
    private bool TryLeaseLocked(Http2ServerConnections entry, IServer server, out Http2Lease? lease)
    {
        foreach (Http2PooledConnection pooled in entry.Connections)
        {
            if (pooled.Ready && TryLeaseOnLocked(entry, pooled, server, newConnection: false, out lease))
            {
                return true;
            }
        }

        lease = null;
        return false;
    }

    private bool TryLeaseOnLocked(Http2ServerConnections entry, Http2PooledConnection pooled, IServer server, bool newConnection, out Http2Lease? lease)
    {
        if (!pooled.Connection.TryOpenStream(out Http2ClientStream stream))
        {
            lease = null;
            return false;
        }

        pooled.OnLeased();
        lease = new Http2Lease(this, entry, pooled, stream, server, newConnection);
        return true;
    }

    /// <summary>
    /// Whether a stream that found no room opens a connection: not while one is connecting or waiting for the server's
    /// SETTINGS (it may have room), nor when the connections that take streams reached the limit. Always once disposed.
    /// </summary>
    private bool ShouldConnectLocked(Http2ServerConnections entry)
    {
        if (_disposed)
        {
            return true;
        }

        if (entry.Connecting > 0)
        {
            return false;
        }

        int open = 0;
        foreach (Http2PooledConnection pooled in entry.Connections)
        {
            if (pooled.Connection.IsDraining)
            {
                continue;
            }

            if (!pooled.Ready)
            {
                return false;
            }

            open++;
        }

        return open < _options.MaxConnectionsPerServer;
    }

    private List<Task> ShutdownAll()
    {
        _disposed = true;
        _heartbeat.Remove(this);
        var ended = new List<Task>();
        foreach (Http2ServerConnections entry in _servers.Values)
        {
            lock (entry.Gate)
            {
                foreach (Http2PooledConnection pooled in entry.Connections)
                {
                    pooled.Connection.BeginShutdown();
                    ended.Add(pooled.Ended);
                }

                // Streams waiting for room get connections of their own now.
                entry.SignalLocked();
            }
        }

        return ended;
    }
}
