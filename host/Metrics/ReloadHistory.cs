namespace PluginProxy.Host.Metrics;

/// <summary>One reload: of the configuration, a plugin or a script, and whether the new version took over.</summary>
internal sealed record ReloadEvent(DateTimeOffset At, string Kind, string What, bool Succeeded, string? Problem);

/// <summary>The last <see cref="Capacity"/> reloads, for the dashboard.</summary>
internal sealed class ReloadHistory
{
    public const int Capacity = 20;

    private readonly Queue<ReloadEvent> _events = new();

    public void Add(ReloadEvent reload)
    {
        lock (_events)
        {
            _events.Enqueue(reload);
            while (_events.Count > Capacity)
            {
                _events.Dequeue();
            }
        }
    }

    /// <summary>The reloads kept, oldest first.</summary>
    public ReloadEvent[] Snapshot()
    {
        lock (_events)
        {
            return [.. _events];
        }
    }
}
