using System.Net.Sockets;

namespace PluginProxy.Abstractions;

/// <summary>
/// A connection to a server (the "client TCP socket" of the seed notes, dedicated to the server side): plain, or TLS when
/// the server entry says <c>tls = true</c> (the handshake is done and verified by then).
/// Disposing it closes the connection and updates the server's connection count.
/// </summary>
public abstract class ServerConnection : IDisposable
{
    private int _idle;

    /// <summary>Creates the connection record for a connected transport.</summary>
    protected ServerConnection(Transport transport, IServer server)
    {
        Transport = transport;
        Server = server;
    }

    /// <summary>Read and write the server through this.</summary>
    public Transport Transport { get; }

    /// <summary>The connected, non-blocking socket underneath.</summary>
    public Socket Socket => Transport.Socket;

    /// <summary>The server it is connected to.</summary>
    public IServer Server { get; }

    /// <summary>True while the connection waits in a pool of idle connections instead of carrying a stream.</summary>
    public bool IsIdle => Volatile.Read(ref _idle) == 1;

    /// <summary>
    /// Tells the server's accounting whether this connection waits, idle, for reuse (true) or carries a stream again
    /// (false), so that <see cref="IServer.ActiveStreams"/> (what <c>leastconn</c> balances on) counts only connections
    /// in use. A new connection carries a stream. Pools call this when they keep and hand out a connection.
    /// </summary>
    public void SetIdle(bool idle)
    {
        int value = idle ? 1 : 0;
        if (Interlocked.Exchange(ref _idle, value) != value)
        {
            OnIdleChanged(idle);
        }
    }

    /// <summary>Called when <see cref="IsIdle"/> changes; the host counts the streams in flight per server here.</summary>
    protected virtual void OnIdleChanged(bool idle)
    {
    }

    /// <summary>Closes the socket (idempotent).</summary>
    public abstract void Dispose();
}
