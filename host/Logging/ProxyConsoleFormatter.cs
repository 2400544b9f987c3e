using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace PluginProxy.Host.Logging;

/// <summary>
/// One line per entry: <c>2026-11-29T12:00:00.123Z info  session  message</c>. The category is shortened to its last
/// part ("PluginProxy.Session" → "session") so session lines read like an access log.
/// </summary>
internal sealed class ProxyConsoleFormatter() : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "pluginproxy";

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        string message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        if (message.Length == 0 && logEntry.Exception is null)
        {
            return;
        }

        string category = logEntry.Category;
        int dot = category.LastIndexOf('.');
        string source = (dot >= 0 ? category[(dot + 1)..] : category).ToLowerInvariant();
        string level = logEntry.LogLevel switch
        {
            LogLevel.Trace => "trace",
            LogLevel.Debug => "debug",
            LogLevel.Information => "info ",
            LogLevel.Warning => "warn ",
            LogLevel.Error => "error",
            _ => "crit ",
        };
        textWriter.Write(DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture));
        textWriter.Write(' ');
        textWriter.Write(level);
        textWriter.Write(' ');
        textWriter.Write(source);
        textWriter.Write(": ");
        textWriter.Write(message.ReplaceLineEndings(" "));
        if (logEntry.Exception is { } exception)
        {
            textWriter.Write(" | ");
            textWriter.Write(exception.ToString().ReplaceLineEndings(Environment.NewLine + "    "));
        }

        textWriter.Write(Environment.NewLine);
    }
}
