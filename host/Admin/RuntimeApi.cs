using System.Text.Json;
using PluginProxy.Host.Accept;
using PluginProxy.Host.Backends;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Admin;

/// <summary>
/// The runtime API under <c>/api/backends</c> and <c>/api/listeners</c> (HAProxy's runtime API and Envoy's admin are
/// the references): reading the state of listeners, backends and servers as JSON, and changing servers without a
/// reload — admin state (<c>ready</c> / <c>drain</c> / <c>maint</c>), weight, adding and removing a server. Changes are
/// made by <see cref="RuntimeChanges"/>; this class maps paths to them and renders the answers.
/// </summary>
internal static class RuntimeApi
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>True for the paths this API answers.</summary>
    public static bool Owns(string path) =>
        path is "/api/backends" or "/api/listeners" || path.StartsWith("/api/backends/", StringComparison.Ordinal) || path.StartsWith("/api/listeners/", StringComparison.Ordinal)
        || path is "/api/tables" || path.StartsWith("/api/tables/", StringComparison.Ordinal);

    /// <summary>Answers a GET (or HEAD) under the API's paths.</summary>
    public static AdminResponse Read(ProxyHost host, string path)
    {
        string[] parts = Segments(path);
        switch (parts)
        {
            case ["listeners"]:
                return Json(200, new { listeners = host.Listeners.Select(Describe) });
            case ["listeners", string name]:
                return host.Listeners.FirstOrDefault(l => l.Name == name) is { } listener
                    ? Json(200, Describe(listener))
                    : Problem(404, $"no listener named \"{name}\"; the listeners are: {Names(host.Listeners.Select(l => l.Name))}");
            case ["backends"]:
                return Json(200, new { backends = host.Backends.Backends.Select(Describe) });
            case ["backends", string name]:
                return FindBackend(host, name, out Backend? backend, out AdminResponse? missing) ? Json(200, Describe(backend!)) : missing!;
            case ["backends", string name, "servers"]:
                return FindBackend(host, name, out backend, out missing) ? Json(200, new { servers = backend!.ServerStates.Select(Describe) }) : missing!;
            case ["backends", string name, "servers", string serverName]:
                return FindServer(host, name, serverName, out _, out Server? server, out missing) ? Json(200, Describe(server!)) : missing!;
            case ["tables"]:
                return TableApi.List(host);
            case ["tables", string name]:
                return TableApi.Show(host, name);
            default:
                return Problem(404, $"nothing at {path}; " + Paths);
        }
    }

    /// <summary>Answers a request that may change state (the caller checked the credential).</summary>
    /// <param name="peer">Who asked, for the log.</param>
    public static async Task<AdminResponse> ChangeAsync(ProxyHost host, string method, string path, ReadOnlyMemory<byte> body, string peer)
    {
        string[] parts = Segments(path);
        switch (method, parts)
        {
            case ("PATCH" or "POST" or "PUT", ["backends", string backendName, "servers", string serverName]):
                if (ServerChange.Parse(body, out string? problem) is not { } change)
                {
                    return Problem(400, problem!);
                }

                return await host.Runtime.ChangeServerAsync(backendName, serverName, change, peer).ConfigureAwait(false);
            case ("POST", ["backends", string backendName, "servers"]):
                if (NewServer.Parse(body, out problem) is not { } added)
                {
                    return Problem(400, problem!);
                }

                return await host.Runtime.AddServerAsync(backendName, added, peer).ConfigureAwait(false);
            case ("DELETE", ["backends", string backendName, "servers", string serverName]):
                return await host.Runtime.RemoveServerAsync(backendName, serverName, peer).ConfigureAwait(false);
            case (_, ["backends", _, "servers", _]):
                return Problem(405, $"{method} is not an action on a server: PATCH (or POST) it with {{\"state\": \"drain\"}} or {{\"weight\": 5}}, or DELETE it") with { Headers = [new("Allow", "GET, HEAD, PATCH, POST, PUT, DELETE")] };
            case (_, ["backends", _, "servers"]):
                return Problem(405, $"{method} is not an action on a backend's servers: POST a new server as {{\"name\": \"c\", \"address\": \"127.0.0.1:9003\"}}") with { Headers = [new("Allow", "GET, HEAD, POST")] };
            default:
                return Problem(404, $"no action at {method} {path}; " + Paths);
        }
    }

    private const string Paths = "the runtime API: GET /api/listeners[/<name>], GET /api/backends[/<name>[/servers[/<name>]]], GET /api/tables[/<name>], " +
        "PATCH /api/backends/<b>/servers/<s> {\"state\": \"ready|drain|maint\", \"weight\": N}, POST /api/backends/<b>/servers {\"name\", \"address\"}, " +
        "DELETE /api/backends/<b>/servers/<s>";

    private static string[] Segments(string path) =>
        path["/api/".Length..].Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();

    internal static bool FindBackend(ProxyHost host, string name, out Backend? backend, out AdminResponse? missing)
    {
        backend = host.Backends.Find(name) as Backend;
        missing = backend is null ? Problem(404, $"no backend named \"{name}\"; the backends are: {Names(host.Backends.Backends.Select(b => b.Name))}") : null;
        return backend is not null;
    }

    internal static bool FindServer(ProxyHost host, string backendName, string serverName, out Backend? backend, out Server? server, out AdminResponse? missing)
    {
        server = null;
        if (!FindBackend(host, backendName, out backend, out missing))
        {
            return false;
        }

        server = backend!.Find(serverName);
        missing = server is null ? Problem(404, $"backend \"{backendName}\" has no server named \"{serverName}\"; its servers are: {Names(backend.ServerStates.Select(s => s.Name))}") : null;
        return server is not null;
    }

    private static string Names(IEnumerable<string> names) => string.Join(", ", names.Select(n => $"\"{n}\"")) is { Length: > 0 } list ? list : "none";

    /// <summary>A server's state and counters: the runtime API's answer, and what the dashboard adds its own figures to.</summary>
    internal static Dictionary<string, object?> Describe(Server server) => new()
    {
        ["name"] = server.Name,
        ["address"] = EndPoints.Format(server.Address),
        ["state"] = ServerAdminStates.Name(server.AdminState),
        ["health"] = server.IsUp ? "up" : "down",
        ["check_failure"] = server.LastCheckFailure,
        ["ejected_until"] = server.Passive.EjectedUntil?.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        ["ejection_reason"] = server.Passive.IsEjected ? server.Passive.Reason : null,
        ["ejections"] = server.Passive.Ejections,
        ["weight"] = server.Weight,
        ["configured_weight"] = server.ConfiguredWeight,
        ["added_at_run_time"] = server.AddedAtRunTime,
        ["streams"] = server.ActiveStreams,
        ["connections"] = server.ActiveConnections,
        ["total_connections"] = server.TotalConnections,
        ["failed_connections"] = server.FailedConnections,
        ["addresses"] = server.Addresses.Select(EndPoints.Format).ToArray(),
        ["dns"] = server.Resolution?.Describe(),
        ["maxconn"] = server.MaxConn,
        ["slots_in_use"] = server.Served,
        ["queue"] = server.Queued,
        ["queue_max"] = server.MaxQueued,
        ["queue_timeouts"] = server.QueueTimeouts,
        ["backup"] = server.IsBackup,
        ["slowstart_ms"] = (long)server.SlowStart.TotalMilliseconds,
        ["effective_weight"] = server.EffectiveWeight,
    };

    private static object Describe(Backend backend) => new
    {
        name = backend.Name,
        balance = backend.Balance.ToString().ToLowerInvariant(),
        check = backend.Check?.Kind.ToString().ToLowerInvariant(),
        servers_usable = backend.ServerStates.Count(s => s.IsEligible),
        streams = backend.ServerStates.Sum(s => s.ActiveStreams),
        connections = backend.ServerStates.Sum(s => s.ActiveConnections),
        total_connections = backend.ServerStates.Sum(s => s.TotalConnections),
        failed_connections = backend.ServerStates.Sum(s => s.FailedConnections),
        retries_running = backend.RetryBudget.Active,
        retry_budget_refusals = backend.RetryBudget.Refused,
        queue = backend.Queue.Length,
        queue_max = backend.Queue.MaxQueued,
        queue_timeouts = backend.Queue.Timeouts,
        using_backups = backend.UsingBackups,
        servers = backend.ServerStates.Select(Describe),
    };

    /// <summary>A listener's state and counters: the runtime API's answer, and what the dashboard adds its own figures to.</summary>
    internal static Dictionary<string, object?> Describe(Listener listener) => new()
    {
        ["name"] = listener.Name,
        ["supervisor"] = listener.Config.Supervisor.Name,
        ["bind"] = listener.BoundEndPoints.Select(EndPoints.Format),
        ["sessions"] = listener.ActiveSessions,
        ["parked"] = listener.ParkedSessions,
        ["maxconn"] = listener.Config.MaxConn,
        ["total_sessions"] = listener.TotalSessions,
        ["backend"] = listener.Config.Backend?.Name,
    };

    internal static AdminResponse Json(int status, object value) =>
        AdminResponse.Text(status, JsonSerializer.Serialize(value, Indented) + "\n", "application/json");

    /// <summary>An error as JSON: <c>{"error": "..."}</c>, with the status.</summary>
    internal static AdminResponse Problem(int status, string error) => Json(status, new { error });
}
