using PluginProxy.Abstractions;

namespace PluginProxy.Host.Accept;

/// <summary>
/// What the host keeps of an idle client connection that its supervisor parked (<see cref="ISession.TryPark"/>): the
/// descriptor, the listener that resumes it, what the accept learned, the session's id and when it may stop waiting.
/// No socket object, no session, no supervisor state: a few hundred bytes.
/// </summary>
internal sealed class ParkedConnection(int fd, Listener listener, AcceptedConnection connection, long sessionId, long deadline)
{
    /// <summary>The connection's file descriptor, owned by the parking lot while parked.</summary>
    public int Fd { get; } = fd;

    public Listener Listener { get; } = listener;

    /// <summary>The accepted connection without its socket (<see cref="AcceptedConnection.WithSocket"/>).</summary>
    public AcceptedConnection Connection { get; } = connection;

    public long SessionId { get; } = sessionId;

    /// <summary>When the connection is closed if the client sent nothing (an <see cref="Environment.TickCount64"/> value).</summary>
    public long Deadline { get; } = deadline;

    /// <summary>The descriptor of the server connection the client is joined to (a parked tcp relay), or -1.</summary>
    public int ServerFd { get; init; } = -1;

    /// <summary>The server that counts <see cref="ServerFd"/> among its connections, with a joined session.</summary>
    public PluginProxy.Host.Backends.Server? Server { get; init; }

    /// <summary>The session's log, carried to the session that resumes a joined one (its line is written at the very end).</summary>
    public SessionLog? Log { get; init; }

    /// <summary>The TLS session of a parked TLS connection (detached from its socket), or null.</summary>
    public DetachedTls? Tls { get; init; }

    /// <summary>How a joined session ended when <see cref="Deadline"/> passes while parked.</summary>
    public SessionTermination TimeoutTermination { get; init; }
}
