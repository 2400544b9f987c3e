using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;

namespace PluginProxy.Host.Plugins;

/// <summary>
/// The process's one timer for connection timeouts (as Kestrel's heartbeat): every <see cref="Period"/> it asks each
/// registered <see cref="IExpiring"/> of every plugin version whether a timeout is due, and expires those that say so.
/// Each plugin version gets its own <see cref="Registrations"/> (the <see cref="IHeartbeat"/> of its service provider);
/// disposing the provider at unload drops them, so no registration keeps an unloaded version's code alive. The timer
/// runs only while some plugin version holds registrations.
/// </summary>
/// <remarks>
/// The period is 50 ms, not Kestrel's 1 s: the http server pool relies on a beat that short to drop connections the server
/// closed before a request is sent on them, and timeouts of a few hundred milliseconds keep their precision.
/// </remarks>
internal sealed partial class Heartbeat
{
    /// <summary>The time between two beats.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(50);

    private readonly object _gate = new();
    private readonly List<IExpiring> _due = [];
    private volatile Registrations[] _all = [];
    private Timer? _timer;
    private int _beating;

    /// <summary>The process's heartbeat, shared by every plugin catalog.</summary>
    public static Heartbeat Shared { get; } = new();

    /// <summary>True while the timer runs: while some registrations are open.</summary>
    internal bool IsRunning
    {
        get
        {
            lock (_gate)
            {
                return _timer is not null;
            }
        }
    }

    /// <summary>A new set of registrations, checked from now until it is disposed. <paramref name="log"/> reports targets that throw.</summary>
    public Registrations Open(ILogger log)
    {
        var registrations = new Registrations(this, log);
        lock (_gate)
        {
            _all = [.. _all, registrations];
            if (_timer is null)
            {
                // No execution context flows into the timer: it could hold values set by whoever opened first (a plugin).
                using (ExecutionContext.SuppressFlow())
                {
                    _timer = new Timer(static state => ((Heartbeat)state!).Beat(), this, Period, Period);
                }
            }
        }

        return registrations;
    }

    private void Close(Registrations registrations)
    {
        lock (_gate)
        {
            _all = _all.Where(r => r != registrations).ToArray();
            if (_all.Length == 0)
            {
                _timer?.Dispose();
                _timer = null;
            }
        }
    }

    private void Beat()
    {
        // A beat that overruns the period makes the next one skip, not run beside it: targets are asked one beat at a time.
        if (Interlocked.Exchange(ref _beating, 1) == 1)
        {
            return;
        }

        try
        {
            long now = Environment.TickCount64;
            foreach (Registrations registrations in _all)
            {
                registrations.CollectDue(now, _due);
                foreach (IExpiring target in _due)
                {
                    registrations.Expire(target, now);
                }

                _due.Clear();
            }
        }
        finally
        {
            Volatile.Write(ref _beating, 0);
        }
    }
}
