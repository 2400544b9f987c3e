using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Host.Accept;

namespace PluginProxy.Host.Logging;

/// <summary>
/// Session lines written through the category PluginProxy.Session of the logger factory: for a host whose access log
/// was handed to it (a test's), which therefore has no traffic-log destination of its own.
/// </summary>
internal sealed class LoggerSessionLines(ILoggerFactory loggers) : ISessionLines
{
    private readonly ILogger _log = loggers.CreateLogger("PluginProxy.Session");

    public void SessionEnded(AcceptedConnection connection, SessionLog log, long endTimestamp)
    {
        // Checked first: the line is formatted before the logger would look at its level.
        if (_log.IsEnabled(LogLevel.Information))
        {
            AcceptLog.SessionEnded(_log, SessionLogFormatter.Format(connection, log, endTimestamp));
        }
    }

    public void ConnectionRefused(AcceptedConnection connection, SessionLog log, long endTimestamp)
    {
        if (_log.IsEnabled(LogLevel.Warning))
        {
            AcceptLog.ConnectionRefused(_log, SessionLogFormatter.Format(connection, log, endTimestamp));
        }
    }
}
