using System.Net;

namespace PluginProxy.Host.Configuration;

/// <summary>
/// How servers named by host name are resolved (<c>resolvers</c> and <c>resolve_timeout</c> in [global]): the
/// nameservers asked, or none for the system's resolver, and how long one query waits for its answer.
/// </summary>
/// <param name="Nameservers">The nameservers, asked in order; empty: the system's resolver (<c>/etc/hosts</c>, then <c>/etc/resolv.conf</c>).</param>
/// <param name="Timeout">How long a query waits for a nameserver's answer.</param>
internal sealed record DnsSettings(IReadOnlyList<IPEndPoint> Nameservers, TimeSpan Timeout)
{
    /// <summary>The default: the system's resolver, 2 seconds per query.</summary>
    public static readonly DnsSettings Default = new([], TimeSpan.FromSeconds(2));

    /// <summary>The default <c>resolve_interval</c>.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(10);

    /// <summary>True for the same nameservers and timeout.</summary>
    public bool Same(DnsSettings other) => Timeout == other.Timeout && Nameservers.SequenceEqual(other.Nameservers);
}
