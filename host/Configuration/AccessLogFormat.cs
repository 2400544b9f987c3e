namespace PluginProxy.Host.Configuration;

/// <summary><c>access_log_format</c>: how each traffic-log line (an HTTP stream, a tcp session) is written.</summary>
internal enum AccessLogFormat
{
    /// <summary>The HAProxy-like line (httplog for HTTP streams, tcplog for tcp sessions).</summary>
    Text,

    /// <summary>One JSON object per line, the same fields with snake_case names.</summary>
    Json,
}
