using System.Net;

namespace PluginProxy.Abstractions;

/// <summary>One server of a backend (one entry of <c>servers = [...]</c>).</summary>
public interface IServer
{
    /// <summary>The server's <c>name</c>, unique within its backend.</summary>
    string Name { get; }

    /// <summary>The backend this server belongs to.</summary>
    IBackend Backend { get; }

    /// <summary>
    /// The address to connect to: the first of <see cref="Addresses"/>. For a server named by host name it follows the
    /// name's resolutions; while such a name has not resolved yet (<c>init_addr = "none"</c>) it is the wildcard address.
    /// </summary>
    IPEndPoint Address { get; }

    /// <summary>
    /// Every address the server's connections rotate over: its one IP address, or each address its host name resolved
    /// to last (A and AAAA records, or the targets of SRV records); empty while a name has not resolved yet.
    /// </summary>
    IReadOnlyList<IPEndPoint> Addresses => [Address];

    /// <summary>The relative share of traffic this server gets (1–256).</summary>
    int Weight { get; }

    /// <summary>False while health checks say the server is down; such a server is never picked.</summary>
    bool IsUp { get; }

    /// <summary>Connections to this server open right now, idle pooled ones included.</summary>
    int ActiveConnections { get; }

    /// <summary>
    /// Streams this server is serving right now: its open connections that carry a request, not the idle ones waiting in
    /// a pool. <c>leastconn</c> balances on this.
    /// </summary>
    int ActiveStreams => ActiveConnections;

    /// <summary>
    /// The HTTP version to speak to this server (<c>proto = "h1" | "h2"</c>); <see cref="ServerProtocol.Http1"/> unless
    /// the configuration says otherwise.
    /// </summary>
    ServerProtocol Protocol => ServerProtocol.Http1;
}
