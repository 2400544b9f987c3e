using Microsoft.Extensions.Logging;

namespace PluginProxy.Host.Stores;

/// <summary>The log lines of shared stores (<c>[[store]]</c>). Event ids 9000–9099 (docs/logging.md).</summary>
internal static partial class StoreLog
{
    [LoggerMessage(EventId = 9001, Level = LogLevel.Information, Message = "Store {Store}: sharing through {Address}")]
    public static partial void Up(ILogger logger, string store, string address);

    [LoggerMessage(EventId = 9002, Level = LogLevel.Warning, Message = "Store {Store}: {Address} unreachable ({Reason}); counting per instance ({Policy}) until it answers again")]
    public static partial void Lost(ILogger logger, string store, string address, string reason, string policy);

    [LoggerMessage(EventId = 9003, Level = LogLevel.Warning, Message = "Store {Store}: {Address} answers again after {Duration}; sharing resumed")]
    public static partial void Recovered(ILogger logger, string store, string address, string duration);

    [LoggerMessage(EventId = 9004, Level = LogLevel.Warning, Message = "Store {Store}: a value shared by another instance could not be read: {Reason}")]
    public static partial void BadMessage(ILogger logger, string store, string reason);
}
