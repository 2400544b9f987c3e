using Microsoft.Extensions.Logging;

namespace PluginProxy.Host.Backends;

/// <summary>The log lines of servers named by host name. Event ids 6050–6059 (docs/logging.md).</summary>
internal static partial class DnsLog
{
    [LoggerMessage(EventId = 6050, Level = LogLevel.Warning, Message = "Server {Server}: {Name} does not resolve any more ({Reason}); {Kept}")]
    public static partial void Failing(ILogger logger, Server server, string name, string reason, string kept);

    [LoggerMessage(EventId = 6051, Level = LogLevel.Warning, Message = "Server {Server}: {Name} resolves again after {Duration}: {Addresses}")]
    public static partial void Recovered(ILogger logger, Server server, string name, string duration, string addresses);

    [LoggerMessage(EventId = 6052, Level = LogLevel.Information, Message = "Server {Server}: {Name} now resolves to {Addresses} (was {Previous})")]
    public static partial void Changed(ILogger logger, Server server, string name, string addresses, string previous);

    [LoggerMessage(EventId = 6053, Level = LogLevel.Warning, Message = "Server {Server}: {Name} does not resolve at start ({Reason}); init_addr = \"none\": it takes no traffic until it does")]
    public static partial void StartsWithoutAddress(ILogger logger, Server server, string name, string reason);
}
