using System.Text.Json;
using PluginProxy.Host.Backends;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Admin;

/// <summary>
/// Renders the admin endpoint's read-only pages from the host's live state: the dashboard (<see cref="DashboardPage"/>,
/// fed by <see cref="DashboardJson"/>), <c>/api/stats</c>, <c>/health</c> and the runtime API's reads.
/// </summary>
internal static class AdminPages
{
    public static AdminResponse Render(ProxyHost host, string target)
    {
        string path = target.Split('?', 2)[0];
        return path switch
        {
            "/" => DashboardPage.Render(),
            "/metrics" => AdminResponse.Text(503, "The metrics exporter is not running\n"),
            "/api/stats" => AdminResponse.Text(200, StatsJson(host), "application/json"),
            "/api/dashboard" => DashboardJson.Render(host),
            "/health" => AdminResponse.Text(200, "ok\n"),
            _ when RuntimeApi.Owns(path) => RuntimeApi.Read(host, path),
            "/api/reload" => AdminResponse.Text(405, "Use POST /api/reload (with the admin token)\n") with { Headers = [new("Allow", "POST")] },
            _ => AdminResponse.Text(404, $"Not found: {path}\nTry /, /metrics, /api/stats, /api/dashboard, /api/backends, /api/listeners or /health\n"),
        };
    }

    private static string StatsJson(ProxyHost host)
    {
        Dictionary<string, ChannelStates> channels = ChannelStates.ByListener(host);
        var stats = new
        {
            started = host.StartedAt,
            sessions = host.Sessions.Count,
            memory = new
            {
                managed_heap_bytes = GC.GetTotalMemory(false),
                allocated_bytes = GC.GetTotalAllocatedBytes(),
                gc_heap_committed_bytes = GC.GetGCMemoryInfo().TotalCommittedBytes,
                working_set_bytes = Environment.WorkingSet,
                gc_collections = new[] { GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2) },
            },
            listeners = host.Listeners.Select(l => new
            {
                name = l.Name,
                supervisor = l.Config.Supervisor.Name,
                bind = l.BoundEndPoints.Select(EndPoints.Format),
                sessions = l.ActiveSessions,
                parked = l.ParkedSessions,
                held = channels.GetValueOrDefault(l.Name).Held,
                autonomous = channels.GetValueOrDefault(l.Name).Autonomous,
                maxconn = l.Config.MaxConn,
                total = l.TotalSessions,
                backend = l.Config.Backend?.Name,
            }),
            backends = host.Backends.Backends.Select(b => new
            {
                name = b.Name,
                balance = b.Balance.ToString().ToLowerInvariant(),
                servers = b.ServerStates.Select(s => new
                {
                    name = s.Name,
                    address = EndPoints.Format(s.Address),
                    weight = s.Weight,
                    up = s.IsUp,
                    state = ServerAdminStates.Name(s.AdminState),
                    connections = s.ActiveConnections,
                    total = s.TotalConnections,
                    failed = s.FailedConnections,
                }),
            }),
            plugins = host.Plugins.Plugins.Select(p => new
            {
                name = p.Name,
                version = p.Generation,
                sdk = p.SdkVersion?.ToString(2),
                supervisors = p.Supervisors.Keys,
                analyzers = p.Analyzers.Keys,
            }),
            stores = StoreStats.Describe(host),
        };
        return JsonSerializer.Serialize(stats, new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }
}
