using Microsoft.Extensions.Logging;

namespace PluginProxy.Host.Rules;

/// <summary>The log lines of declarative rules (<c>[[listener.http_request]]</c>, <c>[[listener.http_response]]</c>): event ids 4900–4999 (docs/logging.md).</summary>
internal static partial class RuleLog
{
    [LoggerMessage(EventId = 4901, Level = LogLevel.Warning, Message = "{Rules}: stick table \"{Table}\" does not exist in the running configuration; its counter conditions are false")]
    public static partial void TableMissing(ILogger logger, string rules, string table);
}
