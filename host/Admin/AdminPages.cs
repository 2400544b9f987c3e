using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using PluginProxy.Abstractions;
using PluginProxy.Host.Accept;
using PluginProxy.Host.Backends;
using PluginProxy.Host.Configuration;
using PluginProxy.Host.Plugins;

namespace PluginProxy.Host.Admin;

/// <summary>Renders the admin endpoint's read-only pages from the host's live state.</summary>
internal static class AdminPages
{
    public static AdminResponse Render(ProxyHost host, string target)
    {
        string path = target.Split('?', 2)[0];
        return path switch
        {
            "/" => AdminResponse.Text(200, StatsHtml(host), "text/html; charset=utf-8"),
            "/metrics" => AdminResponse.Text(503, "The metrics exporter is not running\n"),
            "/api/stats" => AdminResponse.Text(200, StatsJson(host), "application/json"),
            "/health" => AdminResponse.Text(200, "ok\n"),
            _ when RuntimeApi.Owns(path) => RuntimeApi.Read(host, path),
            "/api/reload" => AdminResponse.Text(405, "Use POST /api/reload (with the admin token)\n") with { Headers = [new("Allow", "POST")] },
            _ => AdminResponse.Text(404, $"Not found: {path}\nTry /, /metrics, /api/stats, /api/backends, /api/listeners or /health\n"),
        };
    }

    private static string StatsHtml(ProxyHost host)
    {
        var html = new StringBuilder();
        html.Append("<!doctype html><html><head><meta charset=\"utf-8\"><title>PluginProxy statistics</title>");
        html.Append("<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}")
            .Append("td,th{border:1px solid #bbb;padding:.3em .7em;text-align:left}th{background:#eee}.up{color:#070}.down{color:#b00;font-weight:bold}</style>");
        html.Append("</head><body><h1>PluginProxy statistics</h1>");
        html.Append("<p>Started ").Append(host.StartedAt.ToString("u", CultureInfo.InvariantCulture))
            .Append(", up ").Append(Uptime(host)).Append(", ").Append(host.Sessions.Count).Append(" session(s) running. ")
            .Append("Configuration: <code>").Append(WebUtility.HtmlEncode(host.Config.FilePath)).Append("</code>. ")
            .Append("Also: <a href=\"/metrics\">/metrics</a>, <a href=\"/api/stats\">/api/stats</a>.</p>");

        html.Append("<h2>Listeners</h2><table><tr><th>name</th><th>supervisor</th><th>bound to</th><th>sessions</th><th>parked</th><th>held</th><th>autonomous</th>"
            + "<th>maxconn</th><th>total</th><th>backend</th></tr>");
        Dictionary<string, ChannelStates> channels = ChannelStates.ByListener(host);
        foreach (Listener listener in host.Listeners)
        {
            ChannelStates states = channels.GetValueOrDefault(listener.Name);
            html.Append("<tr><td>").Append(Encode(listener.Name)).Append("</td><td>").Append(Encode(listener.Config.Supervisor.Name))
                .Append("</td><td>").Append(Encode(string.Join(", ", listener.BoundEndPoints.Select(EndPoints.Format))))
                .Append("</td><td>").Append(listener.ActiveSessions).Append("</td><td>").Append(listener.ParkedSessions).Append("</td><td>").Append(states.Held).Append("</td><td>").Append(states.Autonomous)
                .Append("</td><td>").Append(listener.Config.MaxConn)
                .Append("</td><td>").Append(listener.TotalSessions).Append("</td><td>").Append(Encode(listener.Config.Backend?.Name ?? "-"))
                .Append("</td></tr>");
        }

        html.Append("</table><h2>Backends</h2>");
        foreach (Backend backend in host.Backends.Backends)
        {
            html.Append("<h3>").Append(Encode(backend.Name)).Append(" <small>(").Append(backend.Balance.ToString().ToLowerInvariant())
                .Append(backend.Check is null ? ", no health check" : $", {backend.Check.Kind.ToString().ToLowerInvariant()} check").Append(")</small></h3>");
            html.Append("<table><tr><th>server</th><th>address</th><th>weight</th><th>status</th><th>admin state</th><th>connections</th><th>total</th><th>failed connects</th></tr>");
            foreach (Server server in backend.ServerStates)
            {
                html.Append("<tr><td>").Append(Encode(server.Name)).Append("</td><td>").Append(Encode(EndPoints.Format(server.Address)))
                    .Append("</td><td>").Append(server.Weight).Append("</td><td class=\"").Append(server.IsUp ? "up\">UP" : "down\">DOWN")
                    .Append(server.LastCheckFailure is { } why ? $" <small>({Encode(why)})</small>" : "")
                    .Append("</td><td>").Append(ServerAdminStates.Name(server.AdminState))
                    .Append("</td><td>").Append(server.ActiveConnections).Append("</td><td>").Append(server.TotalConnections)
                    .Append("</td><td>").Append(server.FailedConnections).Append("</td></tr>");
            }

            html.Append("</table>");
        }

        html.Append("<h2>Plugins</h2><table><tr><th>plugin</th><th>version</th><th>SDK</th><th>supervisors</th><th>analyzers</th></tr>");
        foreach (LoadedPlugin plugin in host.Plugins.Plugins.OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            html.Append("<tr><td>").Append(Encode(plugin.Name)).Append("</td><td>").Append(plugin.Generation)
                .Append("</td><td>").Append(plugin.SdkVersion?.ToString(2)).Append("</td><td>").Append(Encode(string.Join(", ", plugin.Supervisors.Keys)))
                .Append("</td><td>").Append(Encode(string.Join(", ", plugin.Analyzers.Keys))).Append("</td></tr>");
        }

        html.Append("</table></body></html>\n");
        return html.ToString();
    }

    private static string Uptime(ProxyHost host)
    {
        TimeSpan up = DateTimeOffset.UtcNow - host.StartedAt;
        return up.TotalHours >= 1 ? $"{(int)up.TotalHours}h{up.Minutes:00}m" : up.TotalMinutes >= 1 ? $"{up.Minutes}m{up.Seconds:00}s" : $"{up.Seconds}s";
    }

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

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
        };
        return JsonSerializer.Serialize(stats, new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    /// <summary>
    /// How many sessions of a listener have a channel held by analyzers, and how many forward autonomously
    /// (<see cref="PluginProxy.Abstractions.ChannelFlags.Autonomous"/>: a body, a tunnel or a tcp relay moving without the supervisor).
    /// </summary>
    private readonly record struct ChannelStates(int Held, int Autonomous)
    {
        public static Dictionary<string, ChannelStates> ByListener(ProxyHost host)
        {
            var counts = new Dictionary<string, ChannelStates>(StringComparer.Ordinal);
            foreach (Sessions.Session session in host.Sessions.Snapshot())
            {
                ChannelStates current = counts.GetValueOrDefault(session.Listener.Name);
                counts[session.Listener.Name] = new ChannelStates(current.Held + (session.IsHeld ? 1 : 0), current.Autonomous + (session.IsAutonomous ? 1 : 0));
            }

            return counts;
        }
    }
}
