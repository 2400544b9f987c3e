using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;

namespace PluginProxy.Host.Plugins;

/// <summary>
/// The process's one timer for connection timeouts (as Kestrel's heartbeat): every <see cref="Period"/> it asks each
/// registered <see cref="IExpiring"/> of every plugin version whether a timeout is due, and expires those that say so.
/// Each plugin version gets its own <see cref="Registrations"/> (the <see cref="IHeartbeat"/> of its service provider);
/// disposing the provider at unload drops them, so no registration keeps an unloaded version's code alive. The beats
/// run on a thread of their own, only while some plugin version holds registrations: a thread-pool timer fired up to a
/// second late whenever the pool was short of threads, and every timeout and idle park waited with it.
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
    private volatile Registrations[] _all = [];

    // Set to end the beating thread that waits on it; null while no thread beats.
    private ManualResetEventSlim? _stop;

    /// <summary>The process's heartbeat, shared by every plugin catalog.</summary>
    public static Heartbeat Shared { get; } = new();

    /// <summary>True while the timer runs: while some registrations are open.</summary>
    internal bool IsRunning
    {
        get
        {
            lock (_gate)
            {
                return _stop is not null;
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
            if (_stop is null)
            {
                var stop = new ManualResetEventSlim();
                _stop = stop;
                var thread = new Thread(() => BeatUntil(stop)) { IsBackground = true, Name = "heartbeat" };
                // No execution context flows into the thread: it could hold values set by whoever opened first (a plugin).
                using (ExecutionContext.SuppressFlow())
                {
                    thread.Start();
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
                _stop?.Set();
                _stop = null;
            }
        }
    }

    /// <summary>The beating thread: a beat every period (after the previous one ended) until <paramref name="stop"/> is set.</summary>
    private void BeatUntil(ManualResetEventSlim stop)
    {
        // Each thread its own list: a thread told to stop may still end its beat while a new one starts.
        var due = new List<IExpiring>();
        using (stop)
        {
            while (!stop.Wait(Period))
            {
                Beat(due);
            }
        }
    }

    /// <summary>Every registered target now, for a test's failure message.</summary>
    internal IReadOnlyList<IExpiring> Targets => _all.SelectMany(r => r.Snapshot()).ToList();

    private void Beat(List<IExpiring> due)
    {
        long now = Environment.TickCount64;
        foreach (Registrations registrations in _all)
        {
            registrations.CollectDue(now, due);
            foreach (IExpiring target in due)
            {
                registrations.Expire(target, now);
            }

            due.Clear();
        }
    }
}
