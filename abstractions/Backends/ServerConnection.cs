using System.Net.Sockets;

namespace PluginProxy.Abstractions;

/// <summary>
/// A connected socket to a server (the "client TCP socket" of the seed notes, dedicated to the server side).
/// Disposing it closes the socket and updates the server's connection count.
/// </summary>
public abstract class ServerConnection : IDisposable
{
    /// <summary>Creates the connection record for a connected socket.</summary>
    protected ServerConnection(Socket socket, IServer server)
    {
        Socket = socket;
        Server = server;
    }

    /// <summary>The connected, non-blocking socket.</summary>
    public Socket Socket { get; }

    /// <summary>The server it is connected to.</summary>
    public IServer Server { get; }

    /// <summary>Closes the socket (idempotent).</summary>
    public abstract void Dispose();
}
