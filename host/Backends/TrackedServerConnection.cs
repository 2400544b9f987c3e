using System.Net.Sockets;
using PluginProxy.Abstractions;

namespace PluginProxy.Host.Backends;

/// <summary>A server connection that keeps its server's connection count right when it closes.</summary>
internal sealed class TrackedServerConnection : ServerConnection
{
    private int _disposed;

    public TrackedServerConnection(Transport transport, Server server)
        : base(transport, server)
    {
        server.ConnectionOpened();
    }

    public override void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Transport.Dispose();
            ((Server)Server).ConnectionClosed();
        }
    }
}
