using Microsoft.Extensions.Logging;

namespace PluginProxy.Host.Backends;

/// <summary>The log lines of servers: health checks and connections. Event ids 6000–6999 (docs/logging.md).</summary>
internal static partial class BackendLog
{
    [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "Server {Server} is UP: its backend has no health check any more")]
    public static partial void UpUnchecked(ILogger logger, Server server);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "Server {Server} is UP ({Count} checks passed)")]
    public static partial void Up(ILogger logger, Server server, int count);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "Server {Server} is DOWN ({Count} checks failed, last: {Reason})")]
    public static partial void Down(ILogger logger, Server server, int count, string reason);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Warning, Message = "Backend {Backend} has http health checks, but no loaded plugin provides them (the http plugin does): they fail until one is loaded")]
    public static partial void NoHttpProbe(ILogger logger, string backend);

    [LoggerMessage(EventId = 6020, Level = LogLevel.Warning, Message = "Server {Server} is EJECTED for {Duration} by passive health checks ({Count} failures in a row, last: {Reason})")]
    public static partial void Ejected(ILogger logger, Server server, TimeSpan duration, int count, string reason);

    [LoggerMessage(EventId = 6021, Level = LogLevel.Warning, Message = "Server {Server} is back from its ejection (on probation: its next failure ejects it again)")]
    public static partial void Returned(ILogger logger, Server server);

    [LoggerMessage(EventId = 6022, Level = LogLevel.Debug, Message = "Server {Server} is not ejected: max_ejected_percent ({Percent}%) of its backend is ejected already (last failure: {Reason})")]
    public static partial void EjectionRefused(ILogger logger, Server server, int percent, string reason);

    [LoggerMessage(EventId = 6010, Level = LogLevel.Warning, Message = "Server {Server}: TLS handshake with {Host} (verify {Verify}) failed: {Reason}")]
    public static partial void TlsHandshakeFailed(ILogger logger, Server server, string host, string verify, string reason);
}
