namespace PluginProxy.Http.Upstream;

/// <summary>
/// The HTTP/2 connections to one server, oldest first, and how many are being connected. Everything here runs under
/// <see cref="Gate"/>. <see cref="Changed"/> completes when something that may give a waiting stream room happened.
/// </summary>
internal sealed class Http2ServerConnections
{
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _awaited;

    public object Gate { get; } = new();

    public List<Http2PooledConnection> Connections { get; } = [];

    /// <summary>Connections being connected (before they join <see cref="Connections"/>).</summary>
    public int Connecting { get; set; }

    /// <summary>A task that completes at the next <see cref="SignalLocked"/> (asked under the gate).</summary>
    public Task Changed
    {
        get
        {
            _awaited = true;
            return _changed.Task;
        }
    }

    /// <summary>Wakes the streams waiting for room (a lease ended, a connection became ready or ended).</summary>
    public void SignalLocked()
    {
        // Nothing is allocated while nobody waits.
        if (!_awaited)
        {
            return;
        }

        _awaited = false;
        TaskCompletionSource changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.SetResult();
    }

    /// <summary>Signals under the gate.</summary>
    public void Signal()
    {
        lock (Gate)
        {
            SignalLocked();
        }
    }
}
