using PluginProxy.Abstractions.Http;

namespace PluginProxy.Abstractions;

/// <summary>
/// What a supervisor knows about one finished stream (an HTTP request and its response), handed to
/// <see cref="IAccessLog.Write(in AccessRecord)"/>: the host writes the access-log line from it in the configured format
/// and counts it in the metrics. Lives on the stack; nothing in it may be kept after the call returns.
/// </summary>
/// <remarks>
/// Durations are <see cref="TimeSpan"/>s, negative when the phase did not happen (no server reached, no response):
/// the text log shows them in whole milliseconds, -1 for a negative one, as HAProxy's httplog does.
/// </remarks>
public readonly ref struct AccessRecord
{
    /// <summary>A duration that says "this phase did not happen".</summary>
    public static readonly TimeSpan None = TimeSpan.FromTicks(-1);

    /// <summary>The listener's name.</summary>
    public required string Listener { get; init; }

    /// <summary>The client's address as the log shows it (<see cref="LogNames.Format(System.Net.EndPoint?)"/>).</summary>
    public required string Client { get; init; }

    /// <summary>When the stream began (UTC).</summary>
    public DateTime Start { get; init; }

    /// <summary>The backend chosen, or null when the stream ended before one was.</summary>
    public IBackend? Backend { get; init; }

    /// <summary>The server that answered (or was tried last), or null.</summary>
    public IServer? Server { get; init; }

    /// <summary>TR: from the stream's start to its request head received.</summary>
    public TimeSpan RequestTime { get; init; }

    /// <summary>Tw: time queued for a slot on a server (<c>maxconn</c>; zero when one was free at once, <see cref="None"/> when no server was looked for).</summary>
    public TimeSpan QueueTime { get; init; }

    /// <summary>Tc: connecting to the server (zero for a reused connection).</summary>
    public TimeSpan ConnectTime { get; init; }

    /// <summary>Tr: from the request head received to the response head received from the server.</summary>
    public TimeSpan ResponseTime { get; init; }

    /// <summary>Ta: the whole stream.</summary>
    public TimeSpan TotalTime { get; init; }

    /// <summary>The status sent to the client, or -1 when none was.</summary>
    public int Status { get; init; }

    /// <summary>Bytes received from the client for this stream (head and body as they came on the wire).</summary>
    public long BytesIn { get; init; }

    /// <summary>Bytes sent to the client for this stream.</summary>
    public long BytesOut { get; init; }

    /// <summary>How the stream ended.</summary>
    public SessionTermination Termination { get; init; }

    /// <summary>Failed connection attempts before the one that served (or before giving up).</summary>
    public int Retries { get; init; }

    /// <summary>A short detail (an analyzer's verdict, an error), or null.</summary>
    public string? Detail { get; init; }

    /// <summary>The analyzer (plugin analyzer or script) that threw and ended the stream with a 500, or null.</summary>
    public string? FailedAnalyzer { get; init; }

    /// <summary>The request and response, for header capture; <see cref="HttpExchange.HasRequest"/> is false for a request that could not be parsed.</summary>
    public HttpExchange? Exchange { get; init; }

    /// <summary>The request-target as the client sent it.</summary>
    public ReadOnlySpan<byte> Target { get; init; }

    /// <summary>The stream's span (<see cref="IRequestTracing.Start"/>), ended by the host with the record, or null.</summary>
    public System.Diagnostics.Activity? Activity { get; init; }

        /// <summary>False when the listener's <c>access_log</c> is off: the record is only counted.</summary>
    public bool Logged { get; init; }

    /// <summary>Whether a request head was parsed (the log shows <c>&lt;BADREQ&gt;</c> otherwise).</summary>
    public bool HasRequest => Exchange is { HasRequest: true };

    /// <summary>A duration as the text log shows it: whole milliseconds, -1 when the phase did not happen.</summary>
    public static long Milliseconds(TimeSpan duration) => duration < TimeSpan.Zero ? -1 : (long)duration.TotalMilliseconds;
}
