namespace PluginProxy.Host.Backends;

/// <summary>
/// The queue of a backend whose servers have a <c>maxconn</c>: the streams that wait for any of its servers, oldest
/// first (each server holds those that wait for it in particular), the lock under which slots are taken, given back and
/// handed to waiters, and the queue's counters. A reload that keeps the backend's name keeps its queue, so the streams
/// of both configurations wait in one order and count against the same slots.
/// </summary>
internal sealed class BackendQueue
{
    private long _tickets;
    private int _maxQueued;
    private long _timeouts;

    /// <summary>The lock of every slot count and queue of the backend.</summary>
    public Lock Gate { get; } = new();

    /// <summary>The streams waiting for any server, oldest first; under <see cref="Gate"/>.</summary>
    public LinkedList<SlotWaiter> Waiting { get; } = new();

    /// <summary>How many streams wait for any server now.</summary>
    public int Length => Waiting.Count;

    /// <summary>The most streams that waited for any server at once.</summary>
    public int MaxQueued => Volatile.Read(ref _maxQueued);

    /// <summary>Streams that left a queue of this backend (its own or a server's) with a queue timeout.</summary>
    public long Timeouts => Interlocked.Read(ref _timeouts);

    /// <summary>A new waiter, in the backend's queue, or in <paramref name="target"/>'s when given. Under <see cref="Gate"/>.</summary>
    public SlotWaiter Enqueue(Server? target, IReadOnlyCollection<Abstractions.IServer>? exclude)
    {
        var waiter = new SlotWaiter(this, ++_tickets, exclude);
        if (target is not null)
        {
            target.Enqueued(waiter);
        }
        else
        {
            Waiting.AddLast(waiter.Node);
            if (Waiting.Count > _maxQueued)
            {
                Volatile.Write(ref _maxQueued, Waiting.Count);
            }
        }

        return waiter;
    }

    /// <summary>Moves <paramref name="waiter"/> from its server's queue into the backend's, in order of arrival. Under <see cref="Gate"/>.</summary>
    public void Redirect(SlotWaiter waiter)
    {
        waiter.Node.List!.Remove(waiter.Node);
        waiter.Target = null;
        LinkedListNode<SlotWaiter>? after = Waiting.Last;
        while (after is not null && after.Value.Ticket > waiter.Ticket)
        {
            after = after.Previous;
        }

        if (after is null)
        {
            Waiting.AddFirst(waiter.Node);
        }
        else
        {
            Waiting.AddAfter(after, waiter.Node);
        }
    }

    /// <summary>Ends a wait without a server (its timeout, or the stream ended), unless it was granted one first.</summary>
    public void Abandon(SlotWaiter waiter, bool timedOut)
    {
        lock (Gate)
        {
            if (!waiter.IsWaiting)
            {
                return;
            }

            waiter.Node.List!.Remove(waiter.Node);
            if (timedOut)
            {
                Interlocked.Increment(ref _timeouts);
                waiter.Target?.QueueTimedOut();
            }

            waiter.Done.TrySetResult(null);
        }
    }
}
