using Microsoft.Extensions.Logging;

namespace PluginProxy.Host.Plugins;

/// <summary>The log lines of plugin loading, reloading and unloading: event ids 3000–3999 (docs/logging.md).</summary>
internal static partial class PluginLog
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "No plugins folder at {Folder} (the default of `plugins` in [global]): only the built-in plugins are loaded")]
    public static partial void NoPluginsFolder(ILogger logger, string folder);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "Plugin {Plugin} version {Generation} loaded from {Path} (SDK {Sdk}): supervisors [{Supervisors}], analyzers [{Analyzers}]")]
    public static partial void Loaded(ILogger logger, string plugin, int generation, string path, string? sdk, string supervisors, string analyzers);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Plugin {Plugin} was removed: it unloads once no listener or session uses it")]
    public static partial void Removed(ILogger logger, string plugin);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Debug, Message = "Plugins folder changed: {Paths}")]
    public static partial void FolderChanged(ILogger logger, string paths);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Error, Message = "Plugin refused, the current version (if any) keeps serving: {Error}")]
    public static partial void Refused(ILogger logger, string error);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Error, Message = "Plugin {Plugin} (version {Generation}) failed to stop")]
    public static partial void StopFailed(ILogger logger, Exception exception, string plugin, int generation);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Error, Message = "Plugin {Plugin} (version {Generation}) threw while being disposed")]
    public static partial void DisposeFailed(ILogger logger, Exception exception, string plugin, int generation);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Information, Message = "Plugin {Plugin} version {Generation} unloaded")]
    public static partial void Unloaded(ILogger logger, string plugin, int generation);

    [LoggerMessage(EventId = 3021, Level = LogLevel.Information, Message = "Plugin {Plugin} version {Generation} retired; it stays in memory (resident_plugins)")]
    public static partial void StaysResident(ILogger logger, string plugin, int generation);

    [LoggerMessage(EventId = 3013, Level = LogLevel.Information, Message = "Plugin {Plugin} version {Generation} collected")]
    public static partial void Collected(ILogger logger, string plugin, int generation);

    [LoggerMessage(EventId = 3014, Level = LogLevel.Warning, Message = "Plugin {Plugin} version {Generation} is still in memory {Seconds:0} s after it was unloaded: something still points into it " +
                                                                     "(a static, a timer, a thread, a handler on a static event); stop them in StopAsync or Dispose")]
    public static partial void Leaked(ILogger logger, string plugin, int generation, double seconds);

    /// <summary>A heartbeat registration (plugin code) threw while checked, or while expired (then it is dropped).</summary>
    [LoggerMessage(EventId = 3015, Level = LogLevel.Error, Message = "A timeout check ({Target}) threw")]
    public static partial void TimeoutCheckThrew(ILogger logger, Exception exception, string? target);

    [LoggerMessage(EventId = 3016, Level = LogLevel.Error, Message = "Expiring a timeout ({Target}) threw; it is no longer checked")]
    public static partial void TimeoutExpireThrew(ILogger logger, Exception exception, string? target);

    /// <summary>A plugin or script version failed while unloading (its category is the plugins' or the scripts').</summary>
    [LoggerMessage(EventId = 3020, Level = LogLevel.Error, Message = "{Version} failed while unloading")]
    public static partial void UnloadFailed(ILogger logger, Exception exception, LoadedVersion version);
}
