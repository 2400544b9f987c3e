using System.Net;
using PluginProxy.Abstractions;

namespace PluginProxy.TestKit;

/// <summary>The backends of a <see cref="TestSession"/>: by default one, <c>app</c>, with one server.</summary>
public sealed class TestBackendCatalog : IBackendCatalog
{
    /// <summary>A catalog of <paramref name="backends"/>; with none, the backend <c>app</c> with the server <c>s1</c>.</summary>
    public TestBackendCatalog(params IBackend[] backends) => All = backends.Length > 0 ? backends : [new TestBackend("app")];

    /// <inheritdoc/>
    public IReadOnlyList<IBackend> All { get; }

    /// <inheritdoc/>
    public IBackend? Find(string name) => All.FirstOrDefault(b => b.Name == name);
}

/// <summary>A backend whose servers are in memory; it picks the first server that is up and not excluded.</summary>
public sealed class TestBackend : IBackend
{
    /// <summary>A backend named <paramref name="name"/> with servers named <paramref name="serverNames"/> (<c>s1</c> when none).</summary>
    public TestBackend(string name, params string[] serverNames)
    {
        Name = name;
        int port = 8000;
        Servers = (serverNames.Length > 0 ? serverNames : ["s1"]).Select(s => (IServer)new TestServer(s, this, new IPEndPoint(IPAddress.Parse("192.0.2.10"), port++))).ToList();
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public BalanceAlgorithm Balance => BalanceAlgorithm.RoundRobin;

    /// <inheritdoc/>
    public IReadOnlyList<IServer> Servers { get; }

    /// <inheritdoc/>
    public ProxyTimeouts Timeouts { get; init; } = new();

    /// <inheritdoc/>
    public int Retries { get; init; }

    /// <inheritdoc/>
    public HttpReuse HttpReuse { get; init; } = HttpReuse.Safe;

    /// <inheritdoc/>
    public IServer? PickServer(in ServerSelection selection, IReadOnlyCollection<IServer>? exclude = null)
    {
        foreach (IServer server in Servers)
        {
            if (server.IsUp && exclude?.Contains(server) != true)
            {
                return server;
            }
        }

        return null;
    }
}

/// <summary>A server of a <see cref="TestBackend"/>.</summary>
public sealed class TestServer(string name, IBackend backend, IPEndPoint address) : IServer
{
    /// <inheritdoc/>
    public string Name { get; } = name;

    /// <inheritdoc/>
    public IBackend Backend { get; } = backend;

    /// <inheritdoc/>
    public IPEndPoint Address { get; } = address;

    /// <inheritdoc/>
    public int Weight => 1;

    /// <summary>Whether the server is up (set false to see what a supervisor does without a server).</summary>
    public bool IsUp { get; set; } = true;

    /// <inheritdoc/>
    public int ActiveConnections => 0;

    /// <inheritdoc/>
    public ServerProtocol Protocol { get; set; } = ServerProtocol.Http1;
}
