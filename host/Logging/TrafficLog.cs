using Microsoft.Extensions.Logging;

namespace PluginProxy.Host.Logging;

/// <summary>
/// The lines about the traffic log itself (its destination failing, a file reopened): event ids 8000–8999
/// (docs/logging.md), category PluginProxy.AccessLog. They go to the process's log, never to the traffic log.
/// </summary>
internal static partial class TrafficLog
{
    [LoggerMessage(EventId = 8001, Level = LogLevel.Warning, Message = "Access log: cannot write to {Target}: {Error}; lines are lost until it can")]
    public static partial void WriteFailed(ILogger logger, string target, string error);

    [LoggerMessage(EventId = 8002, Level = LogLevel.Information, Message = "Access log: writing to {Target} again")]
    public static partial void WriteResumed(ILogger logger, string target);

    [LoggerMessage(EventId = 8003, Level = LogLevel.Information, Message = "Access log file {Path} reopened")]
    public static partial void Reopened(ILogger logger, string path);

    [LoggerMessage(EventId = 8004, Level = LogLevel.Error, Message = "Access log file {Path} could not be reopened, lines go on to the file already open: {Error}")]
    public static partial void ReopenFailed(ILogger logger, string path, string error);

    [LoggerMessage(EventId = 8005, Level = LogLevel.Information, Message = "Access log now written to {Target} ({Format})")]
    public static partial void TargetChanged(ILogger logger, string target, string format);
}
