using System.Diagnostics;
using PluginProxy.Abstractions;

namespace PluginProxy.Host.Backends;

/// <summary>
/// One stream waiting for a server slot: in its backend's queue (any server may serve it) or in one server's own queue
/// (<see cref="Target"/>: a persistence or hash choice). Granted, abandoned and timed out only under the queue's lock.
/// </summary>
internal sealed class SlotWaiter
{
    public SlotWaiter(BackendQueue queue, long ticket, IReadOnlyCollection<IServer>? exclude)
    {
        Queue = queue;
        Ticket = ticket;
        Exclude = exclude;
        Node = new LinkedListNode<SlotWaiter>(this);
    }

    /// <summary>The queue whose lock guards this waiter.</summary>
    public BackendQueue Queue { get; }

    /// <summary>The order of arrival: the lower waited longer (a slot goes to the lowest of a server's and its backend's queue).</summary>
    public long Ticket { get; }

    /// <summary>When it started waiting.</summary>
    public long Since { get; } = Stopwatch.GetTimestamp();

    /// <summary>Servers this stream must not go to (tried already), or null.</summary>
    public IReadOnlyCollection<IServer>? Exclude { get; }

    /// <summary>Its place in the list that holds it (the backend's queue or <see cref="Target"/>'s).</summary>
    public LinkedListNode<SlotWaiter> Node { get; }

    /// <summary>The server whose own queue holds it, or null for the backend's queue.</summary>
    public Server? Target { get; set; }

    /// <summary>True when the granted slot counts against the server's <c>maxconn</c>.</summary>
    public bool Counted { get; private set; }

    /// <summary>Completes with the server granted, or null when the wait ended without one (timeout, abandon).</summary>
    public TaskCompletionSource<Server?> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>True while it waits in a list.</summary>
    public bool IsWaiting => Node.List is not null;

    /// <summary>Hands it <paramref name="server"/> (its slot taken already when <paramref name="counted"/>); it leaves its list first.</summary>
    public void Grant(Server server, bool counted)
    {
        Counted = counted;
        Done.TrySetResult(server);
    }
}
