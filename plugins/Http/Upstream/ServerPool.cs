using System.Collections.Concurrent;
using PluginProxy.Abstractions;

namespace PluginProxy.Http.Upstream;

/// <summary>
/// Idle keep-alive connections to servers, per server, newest first. A connection is only pooled after a complete
/// exchange. While anything is idle, every beat of the host's heartbeat sweeps the idle connections
/// (<see cref="IdleSweep"/>): one the server closed leaves the pool within a beat; one idle for <see cref="IdleTimeout"/>
/// is closed. Even so a server may close a connection just as a request is sent on it: the supervisor puts only
/// replayable requests on pooled connections (<c>http_reuse = "safe"</c>) and replays them on a new connection then.
/// </summary>
internal sealed class ServerPool : IExpiring, IDisposable
{
    /// <summary>How long a pooled connection may stay unused (shorter than common server keep-alive timeouts).</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The most idle connections kept per server; past it the oldest is closed. An HTTP/1.1 connection carries one
    /// request at a time, so a proxy with thousands of requests in flight (400 HTTP/2 clients with 10 streams each) needs
    /// as many: with 512, one request in seven opened a new connection there. An idle one costs no buffer.
    /// </summary>
    internal const int MaxIdlePerServer = 4096;

    private readonly ConcurrentDictionary<IServer, IdleConnections> _idle = new(ReferenceEqualityComparer.Instance);
    /// <summary>When the last sweep ran (heartbeat thread only): connections idle since then wait for the next one.</summary>
    private long _previousSweep;

    private readonly IdleSweep _sweep = new();
    private readonly List<PooledConnection> _closing = [];
    private readonly Action<PooledConnection, int> _onClosed;
    private volatile bool _anyIdle;
    private volatile bool _disposed;

    public ServerPool() => _onClosed = Closed;

    /// <summary>
    /// The newest idle connection to <paramref name="server"/>, taken out of the pool; or null. With
    /// <paramref name="check"/>, one that no longer looks usable is closed and the next is tried (one poll each): for a
    /// request that could not be sent again.
    /// </summary>
    public PooledConnection? TryTake(IServer server, bool check = false)
    {
        if (!_idle.TryGetValue(server, out var list))
        {
            return null;
        }

        while (true)
        {
            PooledConnection? taken;
            lock (list.Gate)
            {
                taken = list.PopNewest();
                taken?.OnTaken();
            }

            if (taken is null || !check || taken.LooksUsable())
            {
                return taken;
            }

            taken.Close();
        }
    }

    /// <summary>
    /// Keeps <paramref name="connection"/> for reuse (or closes it if the pool is gone). <paramref name="pooled"/> is its
    /// pool record when it came from the pool, null for a new connection.
    /// </summary>
    public void Return(ServerConnection connection, PooledConnection? pooled)
    {
        var list = _idle.GetOrAdd(connection.Server, static _ => new IdleConnections());
        pooled ??= new PooledConnection(connection);
        PooledConnection? evicted = null;
        lock (list.Gate)
        {
            if (_disposed)
            {
                evicted = pooled;
            }
            else
            {
                pooled.OnIdle(Environment.TickCount64);
                list.PushNewest(pooled);
                if (list.Count > MaxIdlePerServer)
                {
                    evicted = list.Oldest;
                    list.Unlink(evicted!);
                }
            }
        }

        if (!_anyIdle)
        {
            _anyIdle = true;
        }

        evicted?.Close();
    }

    /// <summary>True while any connection is idle: then every beat sweeps.</summary>
    public bool IsExpired(long now) => _anyIdle;

    /// <summary>Closes the idle connections the server closed, and those idle for longer than <see cref="IdleTimeout"/>.</summary>
    public void Expire(long now)
    {
        // Called by the heartbeat only, one beat at a time: the sweep's buffers are reused.
        long limit = (long)IdleTimeout.TotalMilliseconds;
        bool anyIdle = false;
        _sweep.Clear();
        foreach (IdleConnections list in _idle.Values)
        {
            lock (list.Gate)
            {
                while (list.Oldest is { } candidate && now - candidate.Since >= limit)
                {
                    list.Unlink(candidate);
                    _closing.Add(candidate);
                }

                // Oldest first: the ones that went idle since the previous sweep end the list, and are looked at by the
                // next one (under load most idle connections are such, taken again within milliseconds).
                for (PooledConnection? c = list.Oldest; c is not null; c = c.Newer)
                {
                    anyIdle = true;
                    if (c.Since > _previousSweep)
                    {
                        break;
                    }

                    _sweep.Add(c);
                }
            }
        }

        // A connection returned meanwhile sets the flag again.
        _anyIdle = anyIdle;
        _previousSweep = now;
        _sweep.Run(_onClosed);
        foreach (PooledConnection connection in _closing)
        {
            connection.Close();
        }

        _closing.Clear();
        _sweep.Clear();
    }

    private void Closed(PooledConnection connection, int uses)
    {
        if (!_idle.TryGetValue(connection.Connection.Server, out var list))
        {
            return;
        }

        lock (list.Gate)
        {
            // Still idle since the sweep looked at it: nobody took it meanwhile.
            if (connection.InList && connection.Uses == uses)
            {
                list.Unlink(connection);
                _closing.Add(connection);
            }
        }
    }

    /// <summary>Closes every idle connection (this plugin version is being unloaded).</summary>
    public void Dispose()
    {
        _disposed = true;
        foreach (IdleConnections list in _idle.Values)
        {
            List<PooledConnection> all = [];
            lock (list.Gate)
            {
                while (list.PopNewest() is { } connection)
                {
                    all.Add(connection);
                }
            }

            all.ForEach(static c => c.Close());
        }
    }
}
