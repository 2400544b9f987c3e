using Microsoft.Extensions.Logging;

namespace PluginProxy.Host;

/// <summary>
/// The log lines of the proxy's life: start, stop, signals and configuration reloads. Event ids 2000–2099
/// (docs/logging.md); the file watcher's are 2100–2199 (<see cref="Watching.WatchLog"/>).
/// </summary>
internal static partial class HostLog
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "PluginProxy started: {Listeners} listener(s), {Backends} backend(s), {Plugins} plugin(s){Admin}")]
    public static partial void Started(ILogger logger, int listeners, int backends, int plugins, string admin);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Stopping: waiting up to {Grace} for {Count} session(s) to finish")]
    public static partial void StoppingWaiting(ILogger logger, string grace, int count);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Stopping: grace time over, closed {Count} session(s)")]
    public static partial void GraceOver(ILogger logger, int count);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Information, Message = "PluginProxy stopped")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Information, Message = "SIGHUP received: reloading {Path}")]
    public static partial void SighupReceived(ILogger logger, string path);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Information, Message = "{Signal} received: no longer accepting; letting sessions finish")]
    public static partial void StopSignalReceived(ILogger logger, string signal);

    [LoggerMessage(EventId = 2010, Level = LogLevel.Information, Message = "Configuration reloaded from {Path}: {Listeners} listener(s) ({Plan}), {Backends} backend(s), {Kept} server(s) kept with their state")]
    public static partial void Reloaded(ILogger logger, string path, int listeners, ReloadPlan plan, int backends, int kept);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Error, Message = "Configuration reload refused, the running configuration stays: {Problem}")]
    public static partial void ReloadRefused(ILogger logger, string problem);

    [LoggerMessage(EventId = 2012, Level = LogLevel.Error, Message = "Listener {Listener} keeps its current pipeline: {Errors}")]
    public static partial void PipelineKept(ILogger logger, string listener, string errors);

    [LoggerMessage(EventId = 2013, Level = LogLevel.Information, Message = "Listener {Listener} removed: no longer accepting; its sessions finish")]
    public static partial void ListenerRemoved(ILogger logger, string listener);

    [LoggerMessage(EventId = 2014, Level = LogLevel.Information, Message = "Listener {Listener} replaced: its sessions finish on the previous settings")]
    public static partial void ListenerReplaced(ILogger logger, string listener);

    [LoggerMessage(EventId = 2020, Level = LogLevel.Information, Message = "Server state restored from {Path}: {Count} server(s) keep the admin state or weight set at run time")]
    public static partial void ServerStateRestored(ILogger logger, int count, string path);

    [LoggerMessage(EventId = 2021, Level = LogLevel.Warning, Message = "Server state file {Path} not applied, every server starts as configured: {Problem}")]
    public static partial void ServerStateNotRestored(ILogger logger, string path, string problem);

    [LoggerMessage(EventId = 2022, Level = LogLevel.Warning, Message = "Server state file {Path} could not be written; the change is in effect but will not survive a restart: {Problem}")]
    public static partial void ServerStateNotSaved(ILogger logger, string path, string problem);
}
