namespace PluginProxy.Host.Configuration;

/// <summary>
/// A server whose <c>address</c> is a host name: resolved at start, then again every <c>resolve_interval</c>
/// (<see cref="Backends.ServerResolution"/>).
/// </summary>
/// <param name="Host">The name as written (for SRV, the SRV name such as <c>_http._tcp.app.internal</c>).</param>
/// <param name="Port">The port written after the name; 0 with <paramref name="Srv"/>, whose records give the ports.</param>
/// <param name="Srv"><c>srv = true</c>: the name is looked up as SRV records, whose targets give the addresses and ports.</param>
/// <param name="StartWithoutAddress"><c>init_addr = "none"</c>: a name that does not resolve at start is no error; the
/// server takes no traffic until it resolves.</param>
/// <param name="Spot">Where <c>address</c> is written.</param>
internal sealed record ServerHostName(string Host, int Port, bool Srv, bool StartWithoutAddress, SourceSpot Spot)
{
    /// <summary>The name and port as written (<c>app.internal:9001</c>), or the SRV name.</summary>
    public string Written => Srv ? Host : $"{Host}:{Port}";

    /// <summary>True for the same name, port and kind of lookup (what a reload compares).</summary>
    public bool SameName(ServerHostName other) =>
        string.Equals(Host.TrimEnd('.'), other.Host.TrimEnd('.'), StringComparison.OrdinalIgnoreCase) && Port == other.Port && Srv == other.Srv;
}
