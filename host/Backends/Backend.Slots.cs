using System.Collections;
using System.Diagnostics;
using PluginProxy.Abstractions;

namespace PluginProxy.Host.Backends;

/// <summary>
/// Server slots (<c>maxconn</c>) and the queue, backup servers and slow starts. Without any <c>maxconn</c> a stream's
/// lease is the balancer's pick as it always was: no lock, no allocation. With one, picks, slot counts and the queue
/// change under the queue's lock: a stream takes a slot on a server that has one free (the balancer's choice among
/// them), else waits, at most <c>timeout_queue</c>, in the backend's queue, or in one server's own queue when it must go
/// to that server (a preferred server, or the one a hash names); a slot given back goes to whichever of the server's
/// and the backend's oldest waiters waited longer, as HAProxy does.
/// </summary>
internal sealed partial class Backend
{
    private readonly SkipFull _skipFull = new();
    private string? _noServer;

    /// <summary>The queue (and slot lock) of this backend, kept by a reload that keeps its name.</summary>
    internal BackendQueue Queue { get; }

    /// <summary>True while only the backup servers take traffic (no normal server is eligible).</summary>
    internal bool UsingBackups => _useBackups;

    /// <summary>True when the balancer spreads streams (any server will do), false when it maps them to one server (a hash).</summary>
    private bool Spreads => Balance is BalanceAlgorithm.RoundRobin or BalanceAlgorithm.LeastConn or BalanceAlgorithm.Random;

    public ValueTask<ServerLease> AcquireAsync(ServerSelection selection, IReadOnlyCollection<IServer>? exclude, CancellationToken cancellationToken)
    {
        if (!_rotation.Counted)
        {
            return new ValueTask<ServerLease>(PickServer(selection, exclude) is { } server ? new ServerLease(server, null, TimeSpan.Zero) : NoServer());
        }

        SlotWaiter waiter;
        lock (Queue.Gate)
        {
            Server? target = null;
            if (selection.Preferred is Server preferred && Array.IndexOf(_rotation.Servers, preferred) >= 0 && Eligible(preferred, exclude))
            {
                target = preferred;
            }
            else if (Spreads)
            {
                _skipFull.Exclude = exclude;
                IServer? free = PickServer(selection, _skipFull);
                _skipFull.Exclude = null;
                if (free is Server server && server.TryTakeSlot(out bool counted))
                {
                    return new ValueTask<ServerLease>(new ServerLease(server, counted ? server : null, TimeSpan.Zero));
                }

                if (!AnyEligible(exclude))
                {
                    return new ValueTask<ServerLease>(NoServer());
                }
            }
            else if ((target = PickServer(selection, exclude) as Server) is null)
            {
                return new ValueTask<ServerLease>(NoServer());
            }

            if (target is not null && target.TryTakeSlot(out bool taken))
            {
                return new ValueTask<ServerLease>(new ServerLease(target, taken ? target : null, TimeSpan.Zero));
            }

            waiter = Queue.Enqueue(target, exclude);
        }

        return WaitAsync(waiter, cancellationToken);
    }

    /// <summary>
    /// A slot on a server other than those in <paramref name="exclude"/> that has one free, without waiting (a connection
    /// retry moving on); false when there is none.
    /// </summary>
    public bool TryAcquireNow(ServerSelection selection, IReadOnlyCollection<IServer>? exclude, out ServerLease lease)
    {
        lease = default;
        if (!_rotation.Counted)
        {
            if (PickServer(selection, exclude) is not { } picked)
            {
                return false;
            }

            lease = new ServerLease(picked, null, TimeSpan.Zero);
            return true;
        }

        lock (Queue.Gate)
        {
            _skipFull.Exclude = exclude;
            IServer? free = PickServer(selection with { Preferred = null }, _skipFull);
            _skipFull.Exclude = null;
            if (free is not Server server || !server.TryTakeSlot(out bool counted))
            {
                return false;
            }

            lease = new ServerLease(server, counted ? server : null, TimeSpan.Zero);
            return true;
        }
    }

    /// <summary>A stream gave back its slot on <paramref name="server"/>: the oldest waiter that server may serve takes it.</summary>
    internal void ReleaseSlot(Server server)
    {
        lock (Queue.Gate)
        {
            server.ReturnSlot();
            Dispatch(server);
        }
    }

    /// <summary>
    /// A server's health, admin state, weight or role changed, or the servers did: decides whether the backups serve,
    /// moves the waiters of servers that cannot serve any more to the backend's queue, and serves the queue from every
    /// server with a free slot.
    /// </summary>
    internal void ServersChanged(Server? removed = null)
    {
        lock (_changing)
        {
            Server[] servers = _rotation.Servers;
            _useBackups = NeedsBackups(servers, servers.Select(s => s.IsBackup).ToArray());
        }

        lock (Queue.Gate)
        {
            if (removed is not null)
            {
                RedirectWaiters(removed);
            }

            if (Queue.Length == 0 && !_rotation.Servers.Any(s => s.Queued > 0))
            {
                return;
            }

            foreach (Server server in _rotation.Servers)
            {
                if (!Eligible(server, null))
                {
                    RedirectWaiters(server);
                }
            }

            foreach (Server server in _rotation.Servers)
            {
                Dispatch(server);
            }
        }
    }

    /// <summary>True when backups exist and no normal server is eligible.</summary>
    private static bool NeedsBackups(Server[] servers, bool[] backup)
    {
        bool anyBackup = false;
        for (int i = 0; i < servers.Length; i++)
        {
            if (!backup[i])
            {
                if (servers[i].IsEligible)
                {
                    return false;
                }
            }
            else
            {
                anyBackup = true;
            }
        }

        return anyBackup;
    }

    /// <summary>Rebuilds the round-robin orders when a ramping weight grew a step (one picker does it; the others go on with the old orders).</summary>
    private Rotation StepRamp(Rotation rotation)
    {
        if (Clock.GetTimestamp() < rotation.StepAt || !_changing.TryEnter())
        {
            return rotation;
        }

        try
        {
            if (ReferenceEquals(_rotation, rotation))
            {
                _rotation = Rotation.Of(rotation.Servers, Clock);
            }

            return _rotation;
        }
        finally
        {
            _changing.Exit();
        }
    }

    /// <summary>Hands the free slots of <paramref name="server"/> to the oldest waiters it may serve. Under the queue's lock.</summary>
    private void Dispatch(Server server)
    {
        while (!server.IsFull && server.IsEligible)
        {
            SlotWaiter? own = server.Waiters.First?.Value;
            SlotWaiter? shared = null;
            if (Eligible(server, null))
            {
                for (LinkedListNode<SlotWaiter>? node = Queue.Waiting.First; node is not null; node = node.Next)
                {
                    if (node.Value.Exclude is null || !node.Value.Exclude.Contains(server))
                    {
                        shared = node.Value;
                        break;
                    }
                }
            }

            SlotWaiter? next = own is null ? shared : shared is null || own.Ticket < shared.Ticket ? own : shared;
            if (next is null)
            {
                return;
            }

            next.Node.List!.Remove(next.Node);
            next.Grant(server, server.TakeSlotForWaiter());
        }
    }

    private void RedirectWaiters(Server server)
    {
        while (server.Waiters.First is { } first)
        {
            Queue.Redirect(first.Value);
        }
    }

    private async ValueTask<ServerLease> WaitAsync(SlotWaiter waiter, CancellationToken cancellationToken)
    {
        TimeSpan limit = Timeouts.Queue;
        using (var expiry = new CancellationTokenSource(limit))
        using (expiry.Token.UnsafeRegister(static w => ((SlotWaiter)w!).Queue.Abandon((SlotWaiter)w!, timedOut: true), waiter))
        using (cancellationToken.UnsafeRegister(static w => ((SlotWaiter)w!).Queue.Abandon((SlotWaiter)w!, timedOut: false), waiter))
        {
            Server? granted = await waiter.Done.Task.ConfigureAwait(false);
            TimeSpan waited = Stopwatch.GetElapsedTime(waiter.Since);
            if (granted is not null)
            {
                return new ServerLease(granted, waiter.Counted ? granted : null, waited);
            }

            cancellationToken.ThrowIfCancellationRequested();
            return ServerLease.Failed(SessionTermination.QueueTimeout, $"queue timeout after {limit.TotalMilliseconds:0}ms", waited);
        }
    }

    /// <summary>
    /// True when some server may take a stream. A loop, not a lambda: a lambda capturing the caller's parameter would
    /// allocate its closure at the caller's entry, on the path that needs no queue too.
    /// </summary>
    private bool AnyEligible(IReadOnlyCollection<IServer>? exclude)
    {
        foreach (Server server in _rotation.Servers)
        {
            if (Eligible(server, exclude))
            {
                return true;
            }
        }

        return false;
    }

    private ServerLease NoServer() => ServerLease.Failed(SessionTermination.NoServer, _noServer ??= $"backend \"{Name}\" has no server up", TimeSpan.Zero);

    /// <summary>The servers a pick must pass over: those excluded, and those whose slots are all taken (or waited for). Used under the queue's lock.</summary>
    private sealed class SkipFull : IReadOnlyCollection<IServer>, ICollection<IServer>
    {
        public IReadOnlyCollection<IServer>? Exclude { get; set; }

        public int Count => Exclude?.Count ?? 0;

        public bool IsReadOnly => true;

        public bool Contains(IServer item) => (item is Server server && !server.HasFreeSlot) || (Exclude is not null && Exclude.Contains(item));

        public IEnumerator<IServer> GetEnumerator() => (Exclude ?? []).GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public void Add(IServer item) => throw new NotSupportedException();

        public void Clear() => throw new NotSupportedException();

        public void CopyTo(IServer[] array, int arrayIndex) => throw new NotSupportedException();

        public bool Remove(IServer item) => throw new NotSupportedException();
    }
}
