namespace PluginProxy.Host.Configuration;

/// <summary>Where traffic-log lines go (<c>access_log_target</c>).</summary>
internal enum AccessLogTargetKind
{
    Stdout,
    Stderr,

    /// <summary>A file, appended to and reopened on SIGUSR1.</summary>
    File,

    /// <summary>Syslog (RFC 5424) in UDP datagrams.</summary>
    SyslogUdp,

    /// <summary>Syslog (RFC 5424) over a Unix datagram socket such as /dev/log.</summary>
    SyslogUnix,
}
