using System.Net;
using PluginProxy.Abstractions;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Backends;

/// <summary>
/// The run-time state of one server: health, what the operator decided (<see cref="AdminState"/>, a weight set at run
/// time), and the connections open to it.
/// </summary>
internal sealed partial class Server : IServer
{
    /// <summary>The largest weight (HAProxy's too).</summary>
    public const int MaxWeight = 256;

    private volatile bool _isUp = true;
    private volatile Backend _backend;
    private volatile int _weight;
    private volatile int _configuredWeight;
    private volatile ServerAdminState _adminState;
    private volatile ServerAddresses _addresses;
    private int _activeConnections;
    private int _activeStreams;
    private long _totalConnections;
    private long _failedConnections;
    private long _wentUp;
    private long _wentDown;
    private long _checks;

    public Server(ServerConfig config, Backend backend)
    {
        Name = config.Name;
        _addresses = config.EndPoint is { } endPoint ? new ServerAddresses([endPoint]) : ServerAddresses.None;
        Resolution = config.HostName is { } hostName ? new ServerResolution(hostName) : null;
        _weight = config.Weight;
        _configuredWeight = config.Weight;
        Tls = config.Tls;
        Protocol = config.Protocol;
        _backend = backend;
        Passive = new PassiveHealth(this);
        _maxConn = config.MaxConn;
        _backup = config.Backup;
        _slowStart = config.SlowStart;
    }

    public string Name { get; }

    /// <summary>The backend of the running configuration this server belongs to (a reload that keeps the server moves it).</summary>
    public IBackend Backend => _backend;

    /// <summary>
    /// The first of <see cref="Addresses"/>; while a server named by host name has no address yet
    /// (<c>init_addr = "none"</c>), the wildcard address with its port.
    /// </summary>
    public IPEndPoint Address => _addresses.First ?? new IPEndPoint(IPAddress.Any, Resolution?.Name.Port ?? 0);

    /// <summary>Every address connections rotate over: one for an IP address, all those a host name resolved to.</summary>
    public IReadOnlyList<IPEndPoint> Addresses => _addresses.EndPoints;

    /// <summary>The addresses, with their rotation (<see cref="ServerConnector"/> takes them without a lock).</summary>
    internal ServerAddresses AddressSet => _addresses;

    /// <summary>Publishes the addresses a resolution gave (<see cref="ServerResolution.Apply"/>).</summary>
    internal void SetAddresses(ServerAddresses addresses) => _addresses = addresses;

    /// <summary>The resolution of a server named by host name, or null for one written as an IP address.</summary>
    public ServerResolution? Resolution { get; }

    /// <summary>
    /// The address as the server state file and a reload identify it: the name as written (<c>app.internal:9001</c>)
    /// for a server named by host name, the IP address otherwise.
    /// </summary>
    public string AddressKey => Resolution is { } resolution ? resolution.Name.Written : EndPoints.Format(Address);

    /// <summary>The weight in use: the configured one, or the one the runtime API set.</summary>
    public int Weight => _weight;

    /// <summary>The weight the configuration gives this server.</summary>
    public int ConfiguredWeight => _configuredWeight;

    /// <summary>What the operator decided through the runtime API (<see cref="ServerAdminState.Ready"/> unless asked).</summary>
    public ServerAdminState AdminState => _adminState;

    /// <summary>
    /// True when the balancer may give it a new stream: up, ready, a weight above 0, an address to connect to, and not
    /// ejected by passive health checks (a <c>backup</c> server only while its backend has no other:
    /// <see cref="Backends.Backend"/> decides that).
    /// </summary>
    public bool IsEligible => _isUp && _adminState == ServerAdminState.Ready && _weight > 0 && _addresses.Count > 0 && !Passive.IsEjected;

    /// <summary>The passive health checks' view of this server (ejections); inert unless its backend has <c>[backend.passive]</c>.</summary>
    public PassiveHealth Passive { get; }

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
    public void SetUp(bool up)
    {
        bool changed = up != _isUp;
        if (changed)
        {
            Interlocked.Increment(ref up ? ref _wentUp : ref _wentDown);
        }

        _isUp = up;
        if (changed)
        {
            Changed(cameBack: up && _adminState == ServerAdminState.Ready);
        }
    }

    /// <summary>How many times checks brought the server up (after it was down).</summary>
    public long WentUp => Interlocked.Read(ref _wentUp);

    /// <summary>How many times checks took the server down.</summary>
    public long WentDown => Interlocked.Read(ref _wentDown);

    /// <summary>Requests, statuses, bytes and latencies of the streams this server answered (the dashboard's).</summary>
    public Metrics.TrafficStats Traffic { get; } = new();

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
    /// The health checks that connected or tried to (<see cref="ServerConnector.ConnectForCheckAsync"/>). Checks are not
    /// traffic: they count here only, never in the connection and stream counts that balancing and statistics read.
    /// </summary>
    public long Checks => Interlocked.Read(ref _checks);

    /// <summary>A health check is connecting to this server.</summary>
    public void CheckStarted() => Interlocked.Increment(ref _checks);

    /// <summary>True for a server the runtime API added (a reload keeps it only if the file names it too).</summary>
    public bool AddedAtRunTime { get; init; }

    /// <summary>True once the runtime API removed it from its backend: its health checks end.</summary>
    public bool Removed { get; private set; }

    /// <summary>The runtime API removed it from its backend (<see cref="Backends.Backend.Remove"/>).</summary>
    public void MarkRemoved()
    {
        Removed = true;
        Passive.Stop();
    }

    /// <summary>Sets the admin state (the runtime API); the backend's balancer sees it at its next pick.</summary>
    public void SetAdminState(ServerAdminState state)
    {
        ServerAdminState was = _adminState;
        _adminState = state;
        if (was != state)
        {
            Changed(cameBack: state == ServerAdminState.Ready && _isUp);
        }
    }

    /// <summary>Sets the weight in use (the runtime API); call <see cref="Backends.Backend.Rebalance"/> after.</summary>
    public void SetWeight(int weight)
    {
        int was = _weight;
        _weight = weight;
        if ((was == 0) != (weight == 0))
        {
            Changed(cameBack: false);
        }
    }

    /// <summary>
    /// A configuration reload kept this server (same backend name, server name, address and TLS): it joins the new
    /// configuration's backend, and keeps its health, admin state, counters and pooled connections. A weight set at run
    /// time stays, unless the new configuration changed this server's weight: then the newer decision, the file's, wins.
    /// </summary>
    public void MoveTo(Backend backend, ServerConfig config)
    {
        int configuredWeight = config.Weight;
        _maxConn = config.MaxConn;
        _backup = config.Backup;
        _slowStart = config.SlowStart;
        _backend = backend;
        if (configuredWeight != _configuredWeight || _weight == _configuredWeight)
        {
            _weight = configuredWeight;
        }

        _configuredWeight = configuredWeight;
    }

    public override string ToString() => $"{Backend.Name}/{Name}";
}
