using System.Net;

namespace PluginProxy.Host.Configuration;

/// <summary>
/// The keys of servers named by host name: <c>resolvers</c> and <c>resolve_timeout</c> in [global],
/// <c>resolve_interval</c> in [defaults] and [[backend]], a server's <c>address</c> with <c>srv</c> and <c>init_addr</c>.
/// </summary>
internal static class DnsKeys
{
    /// <summary>The keys of [global].</summary>
    public static readonly string[] Global = ["resolvers", "resolve_timeout"];

    /// <summary>The keys of [defaults] and [[backend]].</summary>
    public static readonly string[] Backend = ["resolve_interval"];

    /// <summary>The keys of a server.</summary>
    public static readonly string[] Server = ["srv", "init_addr"];

    /// <summary>The shortest <c>resolve_interval</c>.</summary>
    public static readonly TimeSpan MinInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Reads <c>resolvers</c> and <c>resolve_timeout</c> of [global].</summary>
    public static DnsSettings ReadGlobal(TableReader table)
    {
        TimeSpan timeout = table.Duration("resolve_timeout", TimeSpan.FromMilliseconds(10)) ?? DnsSettings.Default.Timeout;
        if (table.StringList("resolvers", what: "a list of nameservers such as [\"127.0.0.1:53\"]") is not { } listed)
        {
            return DnsSettings.Default with { Timeout = timeout };
        }

        if (table.Table.Find("resolvers")?.Value is TomlArrayNode { Items.Count: 0 })
        {
            table.Error(table.SpotOf("resolvers"), "`resolvers` is empty; list nameservers such as [\"10.0.0.2:53\"], or remove the key to use the system's resolver");
        }

        var nameservers = new List<IPEndPoint>();
        foreach ((string text, SourceSpot spot) in listed)
        {
            if (ParseNameserver(text) is { } nameserver)
            {
                nameservers.Add(nameserver);
            }
            else
            {
                table.Error(spot, $"`resolvers`: \"{text}\" is not a nameserver; write an IP address with an optional port, such as \"127.0.0.1:53\", \"10.0.0.2\" or \"[::1]:5353\"");
            }
        }

        return new DnsSettings(nameservers, timeout);
    }

    /// <summary>A nameserver: an IP address, with a port (53 when none is written).</summary>
    private static IPEndPoint? ParseNameserver(string text)
    {
        // A bare address: IPv4 only as a dotted quad ("5353" or "1.2.3" would parse, as legacy forms).
        if (IPAddress.TryParse(text, out IPAddress? bare) && !text.Contains(']')
            && (bare.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 || bare.ToString() == text))
        {
            return new IPEndPoint(bare, 53);
        }

        return EndPoints.TrySplit(text, forBind: false, out _, out int port, out IPAddress? literal, out _) && literal is not null
            ? new IPEndPoint(literal, port)
            : null;
    }

    /// <summary>The name TLS asks for by default: the host name, or an SRV name without its <c>_service._proto</c> labels.</summary>
    public static string DefaultSni(ServerHostName name)
    {
        string host = name.Host;
        while (name.Srv && host.StartsWith('_') && host.IndexOf('.') is > 0 and int dot)
        {
            host = host[(dot + 1)..];
        }

        return host.TrimEnd('.');
    }

    /// <summary>Reads <c>resolve_interval</c> (of [defaults] or a backend), or null when it is not written.</summary>
    public static TimeSpan? ReadInterval(TableReader table) => table.Duration("resolve_interval", MinInterval);

    /// <summary>
    /// Reads a server's <c>address</c> with its <c>srv</c> and <c>init_addr</c>: an IP address (<paramref name="endPoint"/>)
    /// or a host name (<paramref name="hostName"/>); false, with the problem reported, when it is neither.
    /// </summary>
    public static bool ReadAddress(TableReader table, string? name, (string Value, SourceSpot Spot)? written, out IPEndPoint? endPoint, out ServerHostName? hostName)
    {
        endPoint = null;
        hostName = null;
        bool srv = table.Bool("srv") ?? false;
        (string Value, SourceSpot Spot)? initAddr = table.SpottedString("init_addr", what: "\"none\" or \"resolve\"");
        bool startWithout = false;
        if (initAddr is { } init)
        {
            switch (init.Value)
            {
                case "none": startWithout = true; break;
                case "resolve": break;
                default:
                    table.Error(init.Spot, $"server `init_addr` \"{init.Value}\" is unknown; use \"resolve\" (the default: a name that does not resolve at start is an error) or \"none\" (start without an address until it resolves)");
                    break;
            }
        }

        if (written is not { } address || name is null)
        {
            return false;
        }

        if (srv)
        {
            if (!EndPoints.IsSrvName(address.Value))
            {
                string hint = address.Value.Contains(':') ? "an SRV name has no port (its records give the ports)" : "write an SRV name such as \"_http._tcp.app.internal\"";
                table.Error(address.Spot, $"server \"{name}\" `address`: \"{address.Value}\" is not an SRV name; {hint}");
                return false;
            }

            hostName = new ServerHostName(address.Value, 0, true, startWithout, address.Spot);
            return true;
        }

        if (!EndPoints.TrySplit(address.Value, forBind: false, out string host, out int port, out IPAddress? literal, out string? problem))
        {
            table.Error(address.Spot, $"server \"{name}\" `address`: {problem}");
            return false;
        }

        if (literal is not null)
        {
            endPoint = new IPEndPoint(literal, port);
            if (initAddr is { } misplaced)
            {
                table.Error(misplaced.Spot, $"server `init_addr` only applies to a server named by host name, and \"{address.Value}\" is an IP address");
            }

            return true;
        }

        hostName = new ServerHostName(host, port, false, startWithout, address.Spot);
        return true;
    }
}
