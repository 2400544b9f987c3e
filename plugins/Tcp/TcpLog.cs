using Microsoft.Extensions.Logging;

namespace PluginProxy.Tcp;

/// <summary>The tcp supervisor's log lines: event ids 11000–11999 (docs/logging.md).</summary>
internal static partial class TcpLog
{
    [LoggerMessage(EventId = 11001, Level = LogLevel.Warning, Message = "Session {Session}: no server of backend {Backend} answered ({Reason}); closing the client")]
    public static partial void NoServer(ILogger logger, long session, string backend, string? reason);

    [LoggerMessage(EventId = 11002, Level = LogLevel.Error, Message = "Session {Session}: request analyzer #{Index}, {Analyzer}, threw")]
    public static partial void AnalyzerThrew(ILogger logger, Exception exception, long session, int index, string analyzer);
}
