using System.Diagnostics;

namespace PluginProxy.Host.Plugins;

/// <summary>
/// Proves that unloaded load contexts go away, for the whole process, on one background thread. A context is looked at
/// (a weak reference, no collection) four times a second; garbage collections are forced only when no ordinary one
/// happened, at most one a second for everything watched, and for each context on a back-off schedule (1, 2, 4, 8, 16 s
/// after its unload, ...), as background collections where the runtime allows. A context still alive at its deadline
/// gets one last full, blocking proof before it is reported as leaked.
/// </summary>
/// <remarks>
/// Collecting a load context takes two collections with its finalizers run in between. Forcing a blocking full
/// collection four times a second for each context, as this replaced, stopped every thread of a loaded proxy that often.
/// </remarks>
internal sealed class CollectionWatch
{
    /// <summary>How often the weak references are looked at.</summary>
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);

    /// <summary>When the first collection is forced for a context, after its unload; the wait doubles after each.</summary>
    private static readonly TimeSpan FirstForce = TimeSpan.FromSeconds(1);

    /// <summary>The least time between two forced collections, whatever is watched.</summary>
    private static readonly TimeSpan MinimumGap = TimeSpan.FromSeconds(1);

    private readonly object _gate = new();
    private readonly List<Entry> _entries = [];
    private Thread? _thread;
    private long _lastForced;
    private int _lastGen2Count;
    private int _periodicForces;

    /// <summary>
    /// The collections this watch forced on its schedule (not the last word before a leak is reported, not collections
    /// that happened anyway): what its backoff bounds, whatever else the process does.
    /// </summary>
    internal int PeriodicForces => Volatile.Read(ref _periodicForces);

    /// <summary>The process's watch: plugin versions of every catalog share its forced collections.</summary>
    public static CollectionWatch Shared { get; } = new();

    /// <summary>
    /// Watches <paramref name="target"/> (a weak reference to an unloaded load context): <paramref name="collected"/> runs once
    /// it is gone, <paramref name="leaked"/> if it is still alive after <paramref name="deadline"/>. Both run on the watch's
    /// thread and must be quick.
    /// </summary>
    public void Add(WeakReference target, TimeSpan deadline, Action collected, Action leaked)
    {
        long now = Stopwatch.GetTimestamp();
        lock (_gate)
        {
            _entries.Add(new Entry(target, now, deadline, collected, leaked) { NextForce = FirstForce, Wait = FirstForce });
            if (_thread is null)
            {
                // Below normal: proving a collection can wait for traffic.
                _thread = new Thread(Run) { IsBackground = true, Name = "collection watch", Priority = ThreadPriority.BelowNormal };
                _thread.Start();
            }

            Monitor.Pulse(_gate);
        }
    }

    private void Run()
    {
        while (true)
        {
            lock (_gate)
            {
                while (_entries.Count == 0)
                {
                    Monitor.Wait(_gate);
                }
            }

            Thread.Sleep(Tick);
            Step();
        }
    }

    private void Step()
    {
        List<Entry> entries;
        lock (_gate)
        {
            entries = [.. _entries];
        }

        long now = Stopwatch.GetTimestamp();
        // A full collection that happened anyway (allocations, another component) counts as one forced here.
        int gen2 = GC.CollectionCount(2);
        bool collectedAnyway = gen2 != _lastGen2Count;
        _lastGen2Count = gen2;
        bool force = false;
        foreach (Entry entry in entries)
        {
            TimeSpan age = Stopwatch.GetElapsedTime(entry.Unloaded, now);
            if (!entry.Target.IsAlive)
            {
                Finish(entry, entry.Collected);
            }
            else if (age >= entry.Deadline)
            {
                // The last word before calling it a leak: two blocking collections with finalizers in between, once.
                ForceCollection(blocking: true);
                GC.WaitForPendingFinalizers();
                ForceCollection(blocking: true);
                Finish(entry, entry.Target.IsAlive ? entry.Leaked : entry.Collected);
            }
            else if (age >= entry.NextForce)
            {
                entry.NextForce = age + entry.Wait;
                entry.Wait += entry.Wait;
                force |= !collectedAnyway;
            }
        }

        if (force && Stopwatch.GetElapsedTime(_lastForced) >= MinimumGap)
        {
            ForceCollection(blocking: false);
            Interlocked.Increment(ref _periodicForces);
        }
    }

    private void ForceCollection(bool blocking)
    {
        // Non-blocking asks for a background collection: with concurrent GC on, threads run on while it marks.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking, compacting: false);
        _lastForced = Stopwatch.GetTimestamp();
        _lastGen2Count = GC.CollectionCount(2);
    }

    private void Finish(Entry entry, Action report)
    {
        lock (_gate)
        {
            _entries.Remove(entry);
        }

        try
        {
            report();
        }
        catch (Exception)
        {
            // A report that throws (its logger disposed with a stopped proxy) must not end the watch of the others.
        }
    }

    private sealed class Entry(WeakReference target, long unloaded, TimeSpan deadline, Action collected, Action leaked)
    {
        public WeakReference Target { get; } = target;

        public long Unloaded { get; } = unloaded;

        public TimeSpan Deadline { get; } = deadline;

        public Action Collected { get; } = collected;

        public Action Leaked { get; } = leaked;

        /// <summary>The age at which a collection is next forced for this entry.</summary>
        public TimeSpan NextForce { get; set; }

        /// <summary>The wait after the next forced collection (doubles each time).</summary>
        public TimeSpan Wait { get; set; }
    }
}
