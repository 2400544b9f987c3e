using System.Net;

namespace PluginProxy.Host.Configuration;

/// <summary>
/// A parsed <c>access_log_target</c>: <c>stdout</c>, <c>stderr</c>, a file (absolute path), <c>udp://host:port</c>
/// (resolved when the configuration is read) or <c>unix:///path</c>.
/// </summary>
/// <param name="Kind">Which kind of destination.</param>
/// <param name="Path">The file or Unix socket path (absolute), or null.</param>
/// <param name="EndPoint">The syslog server of a UDP target, or null.</param>
internal sealed record AccessLogTarget(AccessLogTargetKind Kind, string? Path = null, IPEndPoint? EndPoint = null)
{
    public static readonly AccessLogTarget Stdout = new(AccessLogTargetKind.Stdout);

    /// <summary>True for the syslog targets (their lines carry an RFC 5424 header).</summary>
    public bool IsSyslog => Kind is AccessLogTargetKind.SyslogUdp or AccessLogTargetKind.SyslogUnix;

    /// <summary>The target as the configuration writes it.</summary>
    public override string ToString() => Kind switch
    {
        AccessLogTargetKind.Stdout => "stdout",
        AccessLogTargetKind.Stderr => "stderr",
        AccessLogTargetKind.SyslogUdp => $"udp://{EndPoints.Format(EndPoint)}",
        AccessLogTargetKind.SyslogUnix => $"unix://{Path}",
        _ => Path!,
    };
}
