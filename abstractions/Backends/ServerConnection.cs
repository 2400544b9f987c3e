using System.Net.Sockets;

namespace PluginProxy.Abstractions;

/// <summary>
/// A connection to a server (the "client TCP socket" of the seed notes, dedicated to the server side): plain, or TLS when
/// the server entry says <c>tls = true</c> (the handshake is done and verified by then).
/// Disposing it closes the connection and updates the server's connection count.
/// </summary>
public abstract class ServerConnection : IDisposable
{
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

    /// <summary>Closes the socket (idempotent).</summary>
    public abstract void Dispose();
}
