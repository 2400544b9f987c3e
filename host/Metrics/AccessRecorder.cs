using System.Collections.Concurrent;
using PluginProxy.Abstractions;
using PluginProxy.Host.Backends;

namespace PluginProxy.Host.Metrics;

/// <summary>
/// The <see cref="IAccessLog"/> supervisors are given: counts each finished stream (the dashboard's
/// <see cref="TrafficStats"/> per listener and server, and the <see cref="ProxyMetrics"/> instruments), then hands it
/// to the access log that writes lines.
/// </summary>
internal sealed class AccessRecorder(IAccessLog log, ProxyMetrics metrics) : IAccessLog
{
    private readonly ConcurrentDictionary<string, TrafficStats> _listeners = new(StringComparer.Ordinal);

    /// <summary>Always: the dashboard counts every stream.</summary>
    public bool IsEnabled => true;

    /// <summary>The log that writes the lines.</summary>
    public IAccessLog Log => log;

    /// <summary>A listener's counters (kept across reloads by name; empty for a listener without streams yet).</summary>
    public TrafficStats Listener(string name) => _listeners.GetOrAdd(name, static _ => new TrafficStats());

    public void Write(ReadOnlySpan<char> line) => log.Write(line);

    public void Write(in AccessRecord record)
    {
        Listener(record.Listener).Record(record.Status, record.BytesIn, record.BytesOut, record.TotalTime);
        (record.Server as Server)?.Traffic.Record(record.Status, record.BytesIn, record.BytesOut, record.TotalTime);
        metrics.Record(record);
        if (record.Activity is { } activity)
        {
            RequestTracing.End(activity, record);
        }
        if (log.IsEnabled)
        {
            log.Write(record);
        }
    }
}
