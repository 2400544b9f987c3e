using PluginProxy.Abstractions;

namespace PluginProxy.Host.Backends;

/// <summary>
/// A connection a health check made to a server (<see cref="ServerConnector.ConnectForCheckAsync"/>). A check is not
/// traffic: unlike <see cref="TrackedServerConnection"/>, it never touches the server's counts of connections and streams
/// in flight, which balancing (<c>leastconn</c>) and statistics read.
/// </summary>
internal sealed class CheckConnection(Transport transport, Server server) : ServerConnection(transport, server)
{
    public override void Dispose() => Transport.Dispose();
}
