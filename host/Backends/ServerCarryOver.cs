using PluginProxy.Host.Configuration;
using PluginProxy.Host.Tls;

namespace PluginProxy.Host.Backends;

/// <summary>
/// The servers of the running configuration, offered to the backends of the next one during a reload. A server with
/// the same backend name, server name, address, TLS settings and <c>proto</c> is the same server: the next configuration
/// uses the same <see cref="Server"/> object, so its health (and the progress of its checks), its admin state and a
/// weight set at run time, its counters and the connections pooled for it by supervisors carry over. A server whose
/// address, TLS or protocol changed is a new server and starts fresh (connections pooled for one protocol are no use to
/// the other); so does a server the runtime API added that the file does not name.
/// Nothing about a running server changes until <see cref="Commit"/>: a reload refused later leaves them as they were.
/// </summary>
internal sealed class ServerCarryOver
{
    private readonly Dictionary<(string Backend, string Server), Server> _running = [];
    private readonly List<(Server Server, Backend Backend, ServerConfig Config)> _kept = [];
    private readonly Dictionary<string, BackendQueue> _queues = [];

    public ServerCarryOver(BackendCatalog running)
    {
        foreach (Backend backend in running.Backends)
        {
            _queues[backend.Name] = backend.Queue;
            foreach (Server server in backend.ServerStates)
            {
                _running[(backend.Name, server.Name)] = server;
            }
        }
    }

    /// <summary>How many servers the next configuration keeps.</summary>
    public int Kept => _kept.Count;

    /// <summary>The running server that <paramref name="config"/> in <paramref name="backend"/> describes, or null for a new one.</summary>
    public Server? Take(Backend backend, ServerConfig config)
    {
        if (!_running.Remove((backend.Name, config.Name), out Server? server)
            || !SameAddress(server, config)
            || server.Protocol != config.Protocol
            || !ServerTls.SameSettings(server.Tls, config.Tls))
        {
            return null;
        }

        _kept.Add((server, backend, config));
        return server;
    }

    /// <summary>
    /// The same IP address, or the same host name and port (whatever it resolves to now: the kept server keeps its
    /// addresses and resolution state, and is resolved again at its interval).
    /// </summary>
    private static bool SameAddress(Server server, ServerConfig config) =>
        server.Resolution is { } resolution
            ? config.HostName is { } name && resolution.Name.SameName(name)
            : config.EndPoint is { } endPoint && server.Address.Equals(endPoint);

    /// <summary>
    /// The queue of the running backend named <paramref name="backend"/>, or null: the backend of the same name in the
    /// next configuration shares it (the streams waiting in it and the slot lock), whether the reload commits or not.
    /// </summary>
    public BackendQueue? TakeQueue(string backend) => _queues.GetValueOrDefault(backend);

    /// <summary>
    /// Moves every kept server into its new backend, with its admin state, the <c>maxconn</c>, <c>backup</c> and
    /// <c>slowstart</c> the new configuration gives it, and the weight it gives it
    /// (or the one set at run time, when the file did not change it: <see cref="Server.MoveTo"/>).
    /// </summary>
    public void Commit()
    {
        foreach ((Server server, Backend backend, ServerConfig config) in _kept)
        {
            server.MoveTo(backend, config);
        }

        foreach (Backend backend in _kept.Select(k => k.Backend).Distinct())
        {
            backend.Rebalance();
        }
    }
}
