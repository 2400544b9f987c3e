using System.Net.Sockets;
using PluginProxy.Abstractions;

namespace PluginProxy.Host.Backends;

/// <summary>A server connection that keeps its server's connection count right when it closes.</summary>
internal sealed class TrackedServerConnection : ServerConnection
{
    private int _disposed;

    public TrackedServerConnection(Socket socket, Server server)
        : base(socket, server)
    {
        server.ConnectionOpened();
    }

    public override void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Socket.Dispose();
            ((Server)Server).ConnectionClosed();
        }
    }
}
