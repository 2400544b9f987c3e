using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace PluginProxy.Host.Logging;

/// <summary>Creates the process's logger factory: one-line console output, level from <c>PLUGINPROXY_LOG_LEVEL</c>.</summary>
internal static class ProxyLogging
{
    public const string LevelVariable = "PLUGINPROXY_LOG_LEVEL";

    public static ILoggerFactory Create(LogLevel? level = null)
    {
        LogLevel minimum = level
            ?? (Enum.TryParse(Environment.GetEnvironmentVariable(LevelVariable), ignoreCase: true, out LogLevel parsed) ? parsed : LogLevel.Information);
        return LoggerFactory.Create(builder =>
        {
            builder.SetMinimumLevel(minimum);
            builder.AddConsole(options =>
            {
                options.FormatterName = ProxyConsoleFormatter.FormatterName;
                // Under a flood of session lines, drop log lines rather than slow the proxy down.
                options.QueueFullMode = ConsoleLoggerQueueFullMode.DropWrite;
                options.MaxQueueLength = 65536;
            });
            builder.AddConsoleFormatter<ProxyConsoleFormatter, ConsoleFormatterOptions>();
        });
    }
}
