using System.Net;
using Microsoft.Extensions.Logging;

namespace RateLimit;

/// <summary>The rate_limit analyzer's log lines: event ids 14000–14999 (docs/logging.md).</summary>
internal static partial class RateLimitLog
{
    [LoggerMessage(EventId = 14001, Level = LogLevel.Information, Message = "Client {Client} on listener {Listener} is over its limit of {Requests} requests per {Per}: answering 429")]
    public static partial void OverLimit(ILogger logger, IPAddress client, string listener, int requests, TimeSpan per);

    [LoggerMessage(EventId = 14002, Level = LogLevel.Warning, Message = "Store {Store} of listener {Listener}'s shared rate limit is unreachable and on_store_failure = \"closed\": answering 503 until it is back")]
    public static partial void StoreRefusing(ILogger logger, string listener, string store);
}
