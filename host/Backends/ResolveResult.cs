using System.Net;

namespace PluginProxy.Host.Backends;

/// <summary>The outcome of one resolution: the addresses (sorted, IPv4 first), or why there are none.</summary>
internal readonly record struct ResolveResult(IPEndPoint[]? EndPoints, string? Failure)
{
    /// <summary>A failed resolution.</summary>
    public static ResolveResult Failed(string why) => new(null, why);
}
