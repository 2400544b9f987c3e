using Microsoft.Extensions.Logging;

namespace PluginProxy.Host.Admin;

/// <summary>The admin endpoint's log lines: event ids 5000–5999 (docs/logging.md).</summary>
internal static partial class AdminLog
{
    [LoggerMessage(EventId = 5001, Level = LogLevel.Warning, Message = "The admin endpoint listens on {Address}, not on loopback: its read-only pages (statistics, listeners, servers, the configuration's path) are open to every host that reaches it")]
    public static partial void NotLoopback(ILogger logger, string address);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "Admin accept failed: {Error}")]
    public static partial void AcceptFailed(ILogger logger, System.Net.Sockets.SocketError error);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Warning, Message = "Admin endpoint: {Method} {Path} from {Peer} refused with {Status}")]
    public static partial void Refused(ILogger logger, string method, string path, string peer, int status);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Information, Message = "Admin endpoint: configuration reload asked by {Peer}")]
    public static partial void ReloadAsked(ILogger logger, string peer);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Information, Message = "Admin endpoint: {Peer} changed server {Server}: {Change}")]
    public static partial void ServerChanged(ILogger logger, string peer, string server, string change);
}
