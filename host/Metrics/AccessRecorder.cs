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
        if (record.Server is Server server)
        {
            server.Traffic.Record(record.Status, record.BytesIn, record.BytesOut, record.TotalTime);
            ObservePassive(server, record);
        }

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

    /// <summary>
    /// What the stream says about its server's passive health: a failure when the server broke the exchange (reset,
    /// timeout, a bad response) or answered 5xx; a success when it answered below 500 (or, in tcp mode, the session
    /// ended in order); nothing when the client or the proxy ended it (an analyzer's reply, a client gone), which says
    /// nothing about the server.
    /// </summary>
    private static void ObservePassive(Server server, in AccessRecord record)
    {
        if (server.Backend is not Backend { Passive: not null })
        {
            return;
        }

        switch (record.Termination)
        {
            case SessionTermination.ServerAborted or SessionTermination.ServerTimeout or SessionTermination.BadResponse:
                server.Passive.Failed(record.Detail is { } detail ? $"{record.Termination.ToLogName()}: {detail}" : record.Termination.ToLogName());
                break;
            case SessionTermination.Normal when record.Status >= 500:
                server.Passive.Failed($"answered {record.Status}");
                break;
            case SessionTermination.Normal:
                // An answer below 500, or a tcp session that ended in order.
                server.Passive.Succeeded();
                break;
        }
    }
}
