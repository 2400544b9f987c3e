using System.Collections.Concurrent;
using PluginProxy.Host.Accept;

namespace PluginProxy.Host.Sessions;

/// <summary>
/// Every running session of the process: for the stats page, for a graceful stop (signal, wait for them to end),
/// and for the hard stop when the grace time runs out (close their client sockets).
/// </summary>
internal sealed class SessionRegistry : IDisposable
{
    private readonly ConcurrentDictionary<long, Session> _sessions = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _aborted = new();
    private long _nextId;

    public SessionRegistry()
    {
        Parking = ParkingLot.Create(out string? whyNot);
        WhyNoParking = whyNot;
    }

    /// <summary>Where supervisors park idle client connections (<see cref="Session.TryPark"/>), or null when this platform cannot.</summary>
    public ParkingLot? Parking { get; }

    /// <summary>Why <see cref="Parking"/> is null.</summary>
    public string? WhyNoParking { get; }
    private TaskCompletionSource? _drained;

    public CancellationToken Stopping => _stopping.Token;

    public CancellationToken Aborted => _aborted.Token;

    public int Count => _sessions.Count;

    public long NextId() => Interlocked.Increment(ref _nextId);

    public void Add(Session session) => _sessions[session.Id] = session;

    public void Remove(Session session)
    {
        _sessions.TryRemove(session.Id, out _);
        if (_sessions.IsEmpty)
        {
            Volatile.Read(ref _drained)?.TrySetResult();
        }
    }

    /// <summary>Signals every session to finish, waits up to <paramref name="grace"/>, then closes whatever is left.</summary>
    /// <returns>The number of sessions that had to be closed.</returns>
    public async Task<int> DrainAsync(TimeSpan grace)
    {
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _drained, drained);
        _stopping.Cancel();
        if (!_sessions.IsEmpty)
        {
            await Task.WhenAny(drained.Task, Task.Delay(grace)).ConfigureAwait(false);
        }

        int left = _sessions.Count;
        if (left > 0)
        {
            _aborted.Cancel();
            foreach (Session session in _sessions.Values)
            {
                session.Log.TrySetTermination(Abstractions.SessionTermination.Shutdown, "grace time over");
                session.Connection.Socket.Dispose();
            }
        }

        return left;
    }

    public IReadOnlyCollection<Session> Snapshot() => _sessions.Values.ToList();

    public void Dispose()
    {
        Parking?.Dispose();
        _stopping.Dispose();
        _aborted.Dispose();
    }
}
