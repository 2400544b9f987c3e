using Microsoft.Extensions.Logging;

namespace PluginProxy.Host.Scripting;

/// <summary>The log lines of script compiling, reloading and running: event ids 4000–4999 (docs/logging.md).</summary>
internal static partial class ScriptLog
{
    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Script {Script} compiled in {Milliseconds} ms")]
    public static partial void Compiled(ILogger logger, string script, long milliseconds);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Script {Script} reloaded: version {Version} serves new streams ({Milliseconds} ms)")]
    public static partial void Reloaded(ILogger logger, string script, int version, long milliseconds);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Error, Message = "Script reload refused, the previous version keeps serving: {Error}")]
    public static partial void ReloadRefused(ILogger logger, string error);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Error, Message = "Warming up the script compiler failed")]
    public static partial void WarmUpFailed(ILogger logger, Exception exception);

    /// <summary>What a rule script logged with <c>Log(...)</c>.</summary>
    [LoggerMessage(EventId = 4010, Level = LogLevel.Information, Message = "{Script}: {Message}")]
    public static partial void ScriptSaid(ILogger logger, string script, string message);
}
