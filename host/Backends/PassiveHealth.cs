using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Backends;

/// <summary>
/// The passive health of one server (outlier detection, <c>[backend.passive]</c>): traffic's failures and successes are
/// counted as they happen; <c>consecutive_failures</c> failures in a row eject the server for <c>ejection</c> times the
/// number of its ejections (at most <c>max_ejection</c>), unless that would eject more than <c>max_ejected_percent</c>
/// of its backend. An ejected server is not eligible for new streams; active checks go on, and their success does not
/// end an ejection early. When the ejection ends, the server returns on probation: its next failure ejects it again at
/// once, its next success ends the probation. The multiplier falls by one for each <c>ejection</c> the server spends
/// back in service.
/// </summary>
internal sealed class PassiveHealth(Server server)
{
    private readonly Lock _lock = new();
    private volatile bool _ejected;
    private int _consecutive;
    private int _multiplier;
    private bool _probation;
    private long _returnedAt;
    private long _total;
    private DateTimeOffset _until;
    private string? _reason;
    private ITimer? _timer;

    /// <summary>True while the server is ejected: the balancer skips it.</summary>
    public bool IsEjected => _ejected;

    /// <summary>When the current ejection ends, or null when the server is not ejected.</summary>
    public DateTimeOffset? EjectedUntil
    {
        get
        {
            lock (_lock)
            {
                return _ejected ? _until : null;
            }
        }
    }

    /// <summary>Why the server was ejected last (the last failure counted), or null when it never was.</summary>
    public string? Reason
    {
        get
        {
            lock (_lock)
            {
                return _reason;
            }
        }
    }

    /// <summary>Ejections since the server was created.</summary>
    public long Ejections => Interlocked.Read(ref _total);

    /// <summary>Failures in a row counted now.</summary>
    public int ConsecutiveFailures => Volatile.Read(ref _consecutive);

    /// <summary>The server served a stream well (an answer below 500): the count of failures in a row starts over.</summary>
    public void Succeeded()
    {
        if (Volatile.Read(ref _consecutive) == 0 && !_probation)
        {
            return;
        }

        lock (_lock)
        {
            _consecutive = 0;
            _probation = false;
        }
    }

    /// <summary>The server failed (a connection failure, a 5xx, no answer in time): maybe it is ejected now.</summary>
    /// <param name="reason">What it did, for the log and the runtime API.</param>
    public void Failed(string reason)
    {
        if (server.Backend is not Backend { Passive: { } config } backend)
        {
            return;
        }

        TimeSpan duration;
        int count;
        lock (_lock)
        {
            if (_ejected)
            {
                return;
            }

            count = ++_consecutive;
            if (count < config.ConsecutiveFailures && !_probation)
            {
                return;
            }

            if (!MayEject(backend, config))
            {
                BackendLog.EjectionRefused(backend.Log, server, config.MaxEjectedPercent, reason);
                return;
            }

            TimeProvider clock = backend.Clock;
            long now = clock.GetTimestamp();
            if (_returnedAt != 0 && config.Ejection > TimeSpan.Zero)
            {
                // Healthy time since the last return earns the multiplier back, one step per base ejection time.
                long earned = clock.GetElapsedTime(_returnedAt, now).Ticks / config.Ejection.Ticks;
                _multiplier = (int)Math.Max(0, _multiplier - Math.Min(earned, int.MaxValue));
            }

            _multiplier++;
            duration = TimeSpan.FromTicks(Math.Min(config.MaxEjection.Ticks, config.Ejection.Ticks * Math.Min(_multiplier, 100000)));
            _ejected = true;
            _probation = false;
            _consecutive = 0;
            _reason = reason;
            _until = clock.GetUtcNow() + duration;
            _timer?.Dispose();
            _timer = clock.CreateTimer(static state => ((PassiveHealth)state!).Return(), this, duration, Timeout.InfiniteTimeSpan);
            _returnedAt = 0;
            Interlocked.Increment(ref _total);
        }

        BackendLog.Ejected(backend.Log, server, duration, count, reason);
    }

    /// <summary>The ejection ended: the server takes traffic again, on probation.</summary>
    private void Return()
    {
        Backend backend = (Backend)server.Backend;
        lock (_lock)
        {
            if (!_ejected)
            {
                return;
            }

            _ejected = false;
            _probation = true;
            _consecutive = 0;
            _returnedAt = backend.Clock.GetTimestamp();
            _timer?.Dispose();
            _timer = null;
        }

        BackendLog.Returned(backend.Log, server);
    }

    /// <summary>True when one more ejected server keeps the backend within <c>max_ejected_percent</c>.</summary>
    private bool MayEject(Backend backend, PassiveHealthConfig config)
    {
        IReadOnlyList<Server> servers = backend.ServerStates;
        int ejected = 0;
        foreach (Server other in servers)
        {
            if (other != server && other.Passive.IsEjected)
            {
                ejected++;
            }
        }

        return (ejected + 1) * 100 <= config.MaxEjectedPercent * servers.Count;
    }

    /// <summary>Ends an ejection and its timer at once (the server left its backend).</summary>
    public void Stop()
    {
        lock (_lock)
        {
            _timer?.Dispose();
            _timer = null;
            _ejected = false;
        }
    }
}
