using System.Text.Json;
using PluginProxy.Host.Accept;
using PluginProxy.Host.Backends;
using PluginProxy.Host.Configuration;
using PluginProxy.Host.Metrics;
using PluginProxy.Host.Plugins;
using PluginProxy.Host.Scripting;

namespace PluginProxy.Host.Admin;

/// <summary>
/// <c>GET /api/dashboard</c>: everything the dashboard shows, in one document. Traffic counters are totals since each
/// listener or server appeared (with each one's latency histogram), plus <c>clock_ms</c>, a monotonic clock: the page
/// keeps its last polls and computes request rates and recent p50/p99 from the difference of two of them. The proxy
/// thus keeps no state per viewer and no timer of its own, every viewer (a browser, curl in a loop) picks its own
/// window, and a poll that was late still divides by the right interval. <c>p50_ms</c> and <c>p99_ms</c> are since
/// start, for a reader that polls once.
/// </summary>
internal static class DashboardJson
{
    private static readonly string[] ClassNames = ["1xx", "2xx", "3xx", "4xx", "5xx", "other"];

    private static readonly long[] BucketBounds = Enumerable.Range(0, TrafficStats.BucketCount).Select(b => TrafficStats.LowerBoundMicroseconds(b)).ToArray();

    public static AdminResponse Render(ProxyHost host) =>
        AdminResponse.Text(200, JsonSerializer.Serialize(Describe(host)) + "\n", "application/json");

    /// <summary>The document (anonymous objects, serialised as they are).</summary>
    public static object Describe(ProxyHost host)
    {
        long now = Environment.TickCount64;
        Dictionary<string, ChannelStates> channels = ChannelStates.ByListener(host);
        IReadOnlyDictionary<Server, CheckProgress> checks = host.HealthProgress;
        return new
        {
            clock_ms = now,
            started = host.StartedAt,
            uptime_seconds = (long)(DateTimeOffset.UtcNow - host.StartedAt).TotalSeconds,
            config = host.Config.FilePath,
            sessions = host.Sessions.Count,
            token_configured = host.Config.Global.AdminToken is not null,
            latency_bucket_lower_us = BucketBounds,
            listeners = host.Listeners.Select(l => Describe(host, l, channels.GetValueOrDefault(l.Name))),
            backends = host.Backends.Backends.Select(b => new
            {
                name = b.Name,
                balance = b.Balance.ToString().ToLowerInvariant(),
                check = b.Check?.Kind.ToString().ToLowerInvariant(),
                check_interval_ms = b.Check is { } check ? (long?)check.Interval.TotalMilliseconds : null,
                servers_usable = b.ServerStates.Count(s => s.IsEligible),
                traffic = Traffic(TrafficSnapshot.Sum(b.ServerStates.Select(s => s.Traffic.Snapshot()))),
                servers = b.ServerStates.Select(s => Describe(s, checks.GetValueOrDefault(s), now)),
            }),
            stores = StoreStats.Describe(host),
            plugins = host.Plugins.Plugins.OrderBy(p => p.Name, StringComparer.Ordinal).Select(Describe),
            scripts = host.Scripts.Scripts.OrderBy(s => s.Path, StringComparer.Ordinal).Select(Describe),
            reloads = host.Reloads.Snapshot().Reverse().Select(r => new
            {
                at = r.At,
                kind = r.Kind,
                what = r.What,
                succeeded = r.Succeeded,
                problem = r.Problem,
            }),
        };
    }

    private static object Describe(ProxyHost host, Listener listener, ChannelStates channels)
    {
        Dictionary<string, object?> fields = RuntimeApi.Describe(listener);
        fields["held"] = channels.Held;
        fields["autonomous"] = channels.Autonomous;
        fields["traffic"] = Traffic(host.Recorder.Listener(listener.Name).Snapshot());
        return fields;
    }

    private static object Describe(Server server, CheckProgress? check, long now)
    {
        Dictionary<string, object?> fields = RuntimeApi.Describe(server);
        fields["last_check_ms_ago"] = check?.LastCheckedAt is { } at ? Math.Max(0, now - at) : null;
        fields["traffic"] = Traffic(server.Traffic.Snapshot());
        return fields;
    }

    private static object Describe(LoadedPlugin plugin) => new
    {
        name = plugin.Name,
        version = plugin.Generation,
        sdk = plugin.SdkVersion?.ToString(2),
        resident = plugin.Resident,
        supervisors = plugin.Supervisors.Keys.Order(StringComparer.Ordinal),
        analyzers = plugin.Analyzers.Keys.Order(StringComparer.Ordinal),
    };

    private static object Describe(LoadedScript script) => new
    {
        name = Path.GetFileName(script.Path),
        path = script.Path,
        version = script.Version,
        kind = script.Kind.ToString().ToLowerInvariant(),
    };

    /// <summary>Totals of a <see cref="TrafficSnapshot"/>; <c>latency</c> lists the buckets that counted a stream, by index.</summary>
    private static object Traffic(TrafficSnapshot traffic)
    {
        var statuses = new Dictionary<string, long>(ClassNames.Length, StringComparer.Ordinal);
        for (int i = 0; i < ClassNames.Length; i++)
        {
            statuses[ClassNames[i]] = traffic.ByClass[i];
        }

        var latency = new Dictionary<string, long>(StringComparer.Ordinal);
        for (int bucket = 0; bucket < traffic.Latency.Length; bucket++)
        {
            if (traffic.Latency[bucket] > 0)
            {
                latency[bucket.ToString(System.Globalization.CultureInfo.InvariantCulture)] = traffic.Latency[bucket];
            }
        }

        return new
        {
            requests = traffic.Requests,
            statuses,
            bytes_in = traffic.BytesIn,
            bytes_out = traffic.BytesOut,
            p50_ms = traffic.PercentileMilliseconds(0.5),
            p99_ms = traffic.PercentileMilliseconds(0.99),
            latency,
        };
    }
}
