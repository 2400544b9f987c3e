using System.Net;
using System.Net.Sockets;

namespace PluginProxy.Abstractions;

/// <summary>
/// The result of the host's generic accept: one client connection, configured as its listener's accept flags asked,
/// with everything the accept learned. The host hands it to the listener's protocol supervisor.
/// </summary>
public sealed class AcceptedConnection
{
    private readonly Socket? _socket;

    /// <summary>Creates the accepted-connection record of a socket. Only the host creates these.</summary>
    public AcceptedConnection(
        Socket socket,
        string listenerName,
        AcceptFlags flags,
        EndPoint peerEndPoint,
        EndPoint localEndPoint,
        IPEndPoint? originalDestination,
        ProxyHeader? proxyHeader)
        : this(listenerName, flags, peerEndPoint, localEndPoint, originalDestination, proxyHeader)
    {
        _socket = socket;
    }

    /// <summary>
    /// Creates the record of a connection that has no socket (one in memory, as the test kit's): <see cref="Socket"/> throws.
    /// </summary>
    public AcceptedConnection(
        string listenerName,
        AcceptFlags flags,
        EndPoint peerEndPoint,
        EndPoint localEndPoint,
        IPEndPoint? originalDestination = null,
        ProxyHeader? proxyHeader = null)
    {
        ListenerName = listenerName;
        Flags = flags;
        PeerEndPoint = peerEndPoint;
        LocalEndPoint = localEndPoint;
        OriginalDestination = originalDestination;
        ProxyHeader = proxyHeader;
        AcceptedAt = DateTimeOffset.UtcNow;
        AcceptedTimestamp = System.Diagnostics.Stopwatch.GetTimestamp();
    }

    private AcceptedConnection(AcceptedConnection other, Socket? socket)
    {
        _socket = socket;
        ListenerName = other.ListenerName;
        Flags = other.Flags;
        PeerEndPoint = other.PeerEndPoint;
        LocalEndPoint = other.LocalEndPoint;
        OriginalDestination = other.OriginalDestination;
        ProxyHeader = other.ProxyHeader;
        AcceptedAt = other.AcceptedAt;
        AcceptedTimestamp = other.AcceptedTimestamp;
    }

    /// <summary>
    /// The same connection over <paramref name="socket"/>, or over no socket when it is null: what the host keeps of an
    /// idle connection it parked (<see cref="ISession.TryPark"/>), and the record it resumes it with. Only the host uses it.
    /// </summary>
    public AcceptedConnection WithSocket(Socket? socket) => new(this, socket);

    /// <summary>The client socket ("server TCP socket" in the seed notes: the one dedicated to the client side). Non-blocking, already configured.</summary>
    /// <exception cref="NotSupportedException">The connection has no socket (<see cref="HasSocket"/> is false).</exception>
    public Socket Socket => _socket ?? throw new NotSupportedException("this connection has no socket underneath");

    /// <summary>True when a socket is underneath; false for a connection in memory (the test kit's).</summary>
    public bool HasSocket => _socket is not null;

    /// <summary>The name of the listener that accepted the connection.</summary>
    public string ListenerName { get; }

    /// <summary>The accept flags the listener applied.</summary>
    public AcceptFlags Flags { get; }

    /// <summary>The address of the socket's peer as the kernel reports it (a load balancer in front of us, when PROXY protocol is used).</summary>
    public EndPoint PeerEndPoint { get; }

    /// <summary>The local address the connection arrived on.</summary>
    public EndPoint LocalEndPoint { get; }

    /// <summary>The destination before a NAT redirect (<see cref="AcceptFlags.OriginalDestination"/>), or null when not asked for or not redirected.</summary>
    public IPEndPoint? OriginalDestination { get; }

    /// <summary>The PROXY protocol header read at accept (<see cref="AcceptFlags.ProxyProtocol"/>), or null.</summary>
    public ProxyHeader? ProxyHeader { get; }

    /// <summary>
    /// The client as the session should see it: the PROXY header's source when one was received with addresses,
    /// else the socket peer.
    /// </summary>
    public EndPoint ClientEndPoint => ProxyHeader?.Source is { } source ? source : PeerEndPoint;

    /// <summary>
    /// The destination as the session should see it: the PROXY header's destination, else the original destination,
    /// else the local endpoint.
    /// </summary>
    public EndPoint DestinationEndPoint => ProxyHeader?.Destination ?? OriginalDestination ?? LocalEndPoint;

    /// <summary>When the connection was accepted (wall clock, for logs).</summary>
    public DateTimeOffset AcceptedAt { get; }

    /// <summary>When the connection was accepted, as a <see cref="System.Diagnostics.Stopwatch"/> timestamp (for durations).</summary>
    public long AcceptedTimestamp { get; }
}
