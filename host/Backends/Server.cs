using System.Net;
using PluginProxy.Abstractions;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Backends;

/// <summary>The run-time state of one configured server: health, and the connections open to it.</summary>
internal sealed class Server : IServer
{
    private volatile bool _isUp = true;
    private volatile Backend _backend;
    private volatile int _weight;
    private int _activeConnections;
    private int _activeStreams;
    private long _totalConnections;
    private long _failedConnections;

    public Server(ServerConfig config, Backend backend)
    {
        Name = config.Name;
        Address = config.EndPoint;
        _weight = config.Weight;
        Tls = config.Tls;
        Protocol = config.Protocol;
        _backend = backend;
    }

    public string Name { get; }

    /// <summary>The backend of the running configuration this server belongs to (a reload that keeps the server moves it).</summary>
    public IBackend Backend => _backend;

    public IPEndPoint Address { get; }

    public int Weight => _weight;

    /// <summary>TLS to this server, or null for plain TCP.</summary>
    public Tls.ServerTls? Tls { get; }

    /// <summary>The HTTP version spoken to this server (<c>proto</c>); a reload that changes it makes a new server.</summary>
    public ServerProtocol Protocol { get; }

    public bool IsUp => _isUp;

    public int ActiveConnections => Volatile.Read(ref _activeConnections);

    public int ActiveStreams => Volatile.Read(ref _activeStreams);

    public long TotalConnections => Interlocked.Read(ref _totalConnections);

    public long FailedConnections => Interlocked.Read(ref _failedConnections);

    /// <summary>Why the last health check failed, or null.</summary>
    public string? LastCheckFailure { get; set; }

    /// <summary>Set by health checks.</summary>
    public void SetUp(bool up) => _isUp = up;

    /// <summary>A connection was made; it carries a stream until it is pooled.</summary>
    public void ConnectionOpened()
    {
        Interlocked.Increment(ref _activeConnections);
        Interlocked.Increment(ref _activeStreams);
        Interlocked.Increment(ref _totalConnections);
    }

    /// <summary>A connection closed; <paramref name="wasIdle"/> when it was waiting in a pool rather than carrying a stream.</summary>
    public void ConnectionClosed(bool wasIdle)
    {
        Interlocked.Decrement(ref _activeConnections);
        if (!wasIdle)
        {
            Interlocked.Decrement(ref _activeStreams);
        }
    }

    /// <summary>An open connection went idle into a pool (true) or was taken from it for a stream (false).</summary>
    public void ConnectionIdle(bool idle)
    {
        if (idle)
        {
            Interlocked.Decrement(ref _activeStreams);
        }
        else
        {
            Interlocked.Increment(ref _activeStreams);
        }
    }

    public void ConnectionFailed() => Interlocked.Increment(ref _failedConnections);

    /// <summary>
    /// A configuration reload kept this server (same backend name, server name, address and TLS): it joins the new
    /// configuration's backend with the weight written there, and keeps its health, counters and pooled connections.
    /// </summary>
    public void MoveTo(Backend backend, int weight)
    {
        _backend = backend;
        _weight = weight;
    }

    public override string ToString() => $"{Backend.Name}/{Name}";
}
