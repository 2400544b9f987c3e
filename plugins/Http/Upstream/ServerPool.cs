using System.Collections.Concurrent;
using PluginProxy.Abstractions;
using PluginProxy.Plugins.Shared;

namespace PluginProxy.Http.Upstream;

/// <summary>
/// Idle keep-alive connections to servers, per server, newest first. A connection is only pooled after a complete
/// exchange. While idle it is watched (<see cref="PooledConnection"/>), so one the server closes leaves the pool at once;
/// idle ones are closed after <see cref="IdleTimeout"/>. Even so a server may close a connection just as a request is
/// sent on it: the supervisor puts only replayable requests on pooled connections (HAProxy's <c>http-reuse safe</c>),
/// and replays them on a new connection when that happens.
/// </summary>
internal sealed class ServerPool : IExpiring, IDisposable
{
    /// <summary>How long a pooled connection may stay unused (shorter than common server keep-alive timeouts).</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The most idle connections kept per server; past it the oldest is closed.</summary>
    internal const int MaxIdlePerServer = 512;

    private readonly ConcurrentDictionary<IServer, IdleConnections> _idle = new(ReferenceEqualityComparer.Instance);
    private long _oldest = long.MaxValue;
    private volatile bool _disposed;

    /// <summary>The idle connections to <paramref name="server"/> right now (for tests and statistics).</summary>
    public int IdleCount(IServer server) => _idle.TryGetValue(server, out var list) ? list.Count : 0;

    /// <summary>The newest idle connection to <paramref name="server"/> that is still open, taken out of the pool; or null.</summary>
    public PooledConnection? TryTake(IServer server)
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

            if (taken is null || !taken.Unwatched || taken.LooksUsable())
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
        pooled ??= new PooledConnection(connection, list);
        long now = Environment.TickCount64;
        PooledConnection? evicted = null;
        bool watch;
        lock (list.Gate)
        {
            if (_disposed)
            {
                evicted = pooled;
                watch = false;
            }
            else
            {
                watch = pooled.OnIdle(now);
                list.PushNewest(pooled);
                if (list.Count > MaxIdlePerServer)
                {
                    evicted = list.Oldest;
                    list.Unlink(evicted!);
                }
            }
        }

        if (now < Volatile.Read(ref _oldest))
        {
            Volatile.Write(ref _oldest, now);
        }

        evicted?.Close();
        if (watch)
        {
            pooled.StartWatch();
        }
    }

    public bool IsExpired(long now) => now - Volatile.Read(ref _oldest) >= (long)IdleTimeout.TotalMilliseconds;

    /// <summary>Closes the connections idle for longer than <see cref="IdleTimeout"/>.</summary>
    public void Expire(long now)
    {
        long limit = (long)IdleTimeout.TotalMilliseconds;
        long oldest = long.MaxValue;
        List<PooledConnection>? stale = null;
        foreach (IdleConnections list in _idle.Values)
        {
            lock (list.Gate)
            {
                while (list.Oldest is { } candidate && now - candidate.Since >= limit)
                {
                    list.Unlink(candidate);
                    (stale ??= []).Add(candidate);
                }

                if (list.Oldest is { } kept)
                {
                    oldest = Math.Min(oldest, kept.Since);
                }
            }
        }

        Volatile.Write(ref _oldest, oldest);
        stale?.ForEach(static c => c.Close());
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
