using Microsoft.Extensions.Logging;

namespace PluginProxy.Host.Watching;

/// <summary>The file watcher's log lines: event ids 2100–2199 (docs/logging.md).</summary>
internal static partial class WatchLog
{
    [LoggerMessage(EventId = 2101, Level = LogLevel.Warning, Message = "File watch {Watch}: its reload still runs {Seconds:0} s after the watch was stopped")]
    public static partial void ReloadStillRuns(ILogger logger, string watch, double seconds);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Debug, Message = "File watch: {Directory} does not exist, not watched")]
    public static partial void FolderMissing(ILogger logger, string directory);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Error, Message = "File watch: cannot watch {Directory}: {Error}; changes there are not picked up until a restart")]
    public static partial void CannotWatch(ILogger logger, string directory, string error);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Warning, Message = "File watch: events under {Directory} may have been lost ({Error}); looking at its files again")]
    public static partial void EventsLost(ILogger logger, string directory, string error);

    [LoggerMessage(EventId = 2105, Level = LogLevel.Error, Message = "File watch {Watch}: reloading after a change to {Paths} failed")]
    public static partial void CallbackFailed(ILogger logger, Exception exception, string watch, string paths);
}
