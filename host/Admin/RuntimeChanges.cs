using Microsoft.Extensions.Logging;
using PluginProxy.Host.Backends;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Admin;

/// <summary>
/// The runtime API's changes to servers. Each runs between configuration reloads (never during one, so that it lands in
/// the configuration that is running), is logged with who asked and what changed, and is written to
/// <c>server_state_file</c> when one is configured. A server that a reload keeps keeps what was changed here.
/// </summary>
internal sealed class RuntimeChanges(ProxyHost host, ILogger log)
{
    public Task<AdminResponse> ChangeServerAsync(string backendName, string serverName, ServerChange change, string peer) =>
        host.BetweenReloadsAsync(() =>
        {
            if (!RuntimeApi.FindServer(host, backendName, serverName, out Backend? backend, out Server? server, out AdminResponse? missing))
            {
                return missing!;
            }

            var said = new List<string>();
            if (change.State is { } state && state != server!.AdminState)
            {
                said.Add($"state {ServerAdminStates.Name(state)} (was {ServerAdminStates.Name(server.AdminState)})");
                server.SetAdminState(state);
            }

            if (change.Weight is { } weight && weight != server!.Weight)
            {
                said.Add($"weight {weight} (was {server.Weight})");
                server.SetWeight(weight);
                backend!.Rebalance();
            }

            if (said.Count > 0)
            {
                AdminLog.ServerChanged(log, peer, $"{backend!.Name}/{server!.Name}", string.Join(", ", said));
                host.SaveServerState();
            }

            return RuntimeApi.Json(200, RuntimeApi.Describe(server!));
        });

    public Task<AdminResponse> AddServerAsync(string backendName, NewServer added, string peer) =>
        host.BetweenReloadsAsync(() =>
        {
            if (!RuntimeApi.FindBackend(host, backendName, out Backend? backend, out AdminResponse? missing))
            {
                return missing!;
            }

            var config = new ServerConfig
            {
                Name = added.Name,
                Address = added.Address,
                EndPoint = added.EndPoint,
                Weight = added.Weight,
                Protocol = added.Protocol,
                Spot = new SourceSpot("runtime API", 0, 0),
            };
            var server = new Server(config, backend!) { AddedAtRunTime = true };
            server.SetAdminState(added.State);
            if (!backend!.TryAdd(server))
            {
                return RuntimeApi.Problem(409, $"backend \"{backend.Name}\" already has a server named \"{added.Name}\"");
            }

            host.StartChecks(server, backend);
            AdminLog.ServerChanged(log, peer, $"{backend.Name}/{server.Name}",
                $"added at {EndPoints.Format(server.Address)}, weight {server.Weight}, state {ServerAdminStates.Name(server.AdminState)}");
            host.SaveServerState();
            return RuntimeApi.Json(201, RuntimeApi.Describe(server));
        });

    public Task<AdminResponse> RemoveServerAsync(string backendName, string serverName, string peer) =>
        host.BetweenReloadsAsync(() =>
        {
            if (!RuntimeApi.FindServer(host, backendName, serverName, out Backend? backend, out Server? server, out AdminResponse? missing))
            {
                return missing!;
            }

            // As HAProxy's "del server": only a server in maintenance, so that removing one is never the first step.
            if (server!.AdminState != ServerAdminState.Maint)
            {
                return RuntimeApi.Problem(409, $"server {backend!.Name}/{server.Name} is in state {ServerAdminStates.Name(server.AdminState)}: " +
                    "set it to maint first ({\"state\": \"maint\"}), then remove it; the streams it carries finish");
            }

            backend!.Remove(server);
            server.MarkRemoved();
            AdminLog.ServerChanged(log, peer, $"{backend.Name}/{server.Name}", $"removed ({server.ActiveStreams} stream(s) still finishing on it)");
            host.SaveServerState();
            return RuntimeApi.Json(200, new { removed = $"{backend.Name}/{server.Name}" });
        });
}
