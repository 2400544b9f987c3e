using PluginProxy.Abstractions;

namespace PluginProxy.Host.Backends;

/// <summary>
/// A server's <c>maxconn</c> (its slots and the queue of streams waiting for one of them), its <c>backup</c> role, and
/// its <c>slowstart</c> (the weight ramp after it comes back). The slot counts and the queue change only under the lock
/// of the backend's queue (<see cref="BackendQueue.Gate"/>).
/// </summary>
internal sealed partial class Server : IServerSlot
{
    /// <summary>Weights are compared at this scale, so that a ramp can give a weight-1 server a twentieth of its share.</summary>
    public const int WeightScale = 20;

    private const long NoRamp = long.MinValue;

    private volatile int _maxConn;
    private volatile bool _backup;
    private TimeSpan _slowStart;
    private long _rampStart = NoRamp;
    private int _served;
    private int _maxQueued;
    private long _queueTimeouts;

    /// <summary><c>maxconn</c>: the most streams it serves at once (0: no limit; the rest wait in a queue).</summary>
    public int MaxConn => _maxConn;

    /// <summary><c>backup</c>: takes traffic only while no other server of its backend can.</summary>
    public bool IsBackup => _backup;

    /// <summary><c>slowstart</c>: how long its weight ramps up after it comes back (zero: at once).</summary>
    public TimeSpan SlowStart => _slowStart;

    /// <summary>Slots in use (streams holding a lease counted against <see cref="MaxConn"/>).</summary>
    public int Served => Volatile.Read(ref _served);

    /// <summary>The streams waiting for this server in particular (a persistence or hash choice), oldest first; under the queue lock.</summary>
    internal LinkedList<SlotWaiter> Waiters { get; } = new();

    /// <summary>How many streams wait in this server's own queue now.</summary>
    public int Queued => Waiters.Count;

    /// <summary>The most streams that waited in this server's own queue at once.</summary>
    public int MaxQueued => Volatile.Read(ref _maxQueued);

    /// <summary>Streams that left this server's own queue with a queue timeout.</summary>
    public long QueueTimeouts => Interlocked.Read(ref _queueTimeouts);

    /// <summary>True when a slot is free and nobody waits for this server (always, without <c>maxconn</c>); under the queue lock.</summary>
    internal bool HasFreeSlot => _maxConn == 0 || (_served < _maxConn && Waiters.Count == 0);

    /// <summary>Takes a slot if one is free; <paramref name="counted"/> when it counts against <c>maxconn</c>. Under the queue lock.</summary>
    internal bool TryTakeSlot(out bool counted)
    {
        counted = _maxConn > 0;
        if (!HasFreeSlot)
        {
            return false;
        }

        if (counted)
        {
            _served++;
        }

        return true;
    }

    /// <summary>Takes a slot for a waiter being served (room was checked). Under the queue lock.</summary>
    internal bool TakeSlotForWaiter()
    {
        if (_maxConn == 0)
        {
            return false;
        }

        _served++;
        return true;
    }

    /// <summary>True when the slots are all taken. Under the queue lock.</summary>
    internal bool IsFull => _maxConn > 0 && _served >= _maxConn;

    /// <summary>A stream joined this server's own queue. Under the queue lock.</summary>
    internal void Enqueued(SlotWaiter waiter)
    {
        Waiters.AddLast(waiter.Node);
        waiter.Target = this;
        if (Waiters.Count > _maxQueued)
        {
            Volatile.Write(ref _maxQueued, Waiters.Count);
        }
    }

    /// <summary>A stream of this server's own queue gave up waiting.</summary>
    internal void QueueTimedOut() => Interlocked.Increment(ref _queueTimeouts);

    /// <summary>Gives a slot back: the oldest stream waiting for this server, or for any server of its backend, takes it.</summary>
    public void Release() => _backend.ReleaseSlot(this);

    /// <summary>Gives one slot back. Under the queue lock.</summary>
    internal void ReturnSlot() => _served--;

    /// <summary>The weight in use, at <see cref="WeightScale"/>, ramped during <c>slowstart</c>: what balancing compares.</summary>
    public int ScaledWeight
    {
        get
        {
            int full = _weight * WeightScale;
            long start = Volatile.Read(ref _rampStart);
            if (start == NoRamp || full == 0)
            {
                return full;
            }

            double done = _backend.Clock.GetElapsedTime(start) / _slowStart;
            if (done >= 1)
            {
                return full;
            }

            // Linear, from a twentieth of the weight (at least 1 at this scale) to all of it.
            double share = (1 + (WeightScale - 1) * Math.Max(done, 0)) / WeightScale;
            return Math.Clamp((int)Math.Ceiling(full * share), 1, full);
        }
    }

    /// <summary>The weight balancing uses now: <see cref="Weight"/>, or less while it ramps up (<c>slowstart</c>).</summary>
    public double EffectiveWeight => ScaledWeight / (double)WeightScale;

    /// <summary>When the ramp of its weight ends (a timestamp of the backend's clock), or null when it does not ramp.</summary>
    internal long? RampEnd
    {
        get
        {
            long start = Volatile.Read(ref _rampStart);
            if (start == NoRamp)
            {
                return null;
            }

            long end = start + (long)(_slowStart.TotalSeconds * _backend.Clock.TimestampFrequency);
            if (_backend.Clock.GetTimestamp() >= end)
            {
                Interlocked.CompareExchange(ref _rampStart, NoRamp, start);
                return null;
            }

            return end;
        }
    }

    /// <summary>Its health, admin state or weight changed: a ramp starts if it came back, and its backend balances again.</summary>
    private void Changed(bool cameBack)
    {
        Backend backend = _backend;
        if (cameBack && _slowStart > TimeSpan.Zero)
        {
            Volatile.Write(ref _rampStart, backend.Clock.GetTimestamp());
            backend.Rebalance();
            return;
        }

        backend.ServersChanged();
    }
}
