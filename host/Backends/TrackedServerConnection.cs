using PluginProxy.Abstractions;

namespace PluginProxy.Host.Backends;

/// <summary>A server connection that keeps its server's counts of connections and streams in flight right.</summary>
internal sealed class TrackedServerConnection : ServerConnection
{
    private int _disposed;

    public TrackedServerConnection(Transport transport, Server server)
        : base(transport, server)
    {
        server.ConnectionOpened();
    }

    /// <summary>A connection already counted by its server, over a new socket (a parked join resumed).</summary>
    private TrackedServerConnection(Server server, Transport transport)
        : base(transport, server)
    {
    }

    /// <summary>The connection of a parked join, over the socket it is resumed with: its server counted it all along.</summary>
    public static TrackedServerConnection Resumed(Server server, Transport transport) => new(server, transport);

    /// <summary>Hands the connection over to the parking lot: disposing it then neither closes a socket nor changes the counts.</summary>
    public void Detach() => Volatile.Write(ref _disposed, 1);

    private Server TrackedServer => (Server)Server;

    protected override void OnIdleChanged(bool idle)
    {
        // A pool may hand the connection out again only while it is open, but a close may race with that: once
        // disposed, the close already settled the counts.
        if (Volatile.Read(ref _disposed) == 0)
        {
            TrackedServer.ConnectionIdle(idle);
        }
    }

    public override void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Transport.Dispose();
            TrackedServer.ConnectionClosed(IsIdle);
        }
    }
}
