using System.Net;

namespace PluginProxy.Abstractions.Http;

/// <summary>
/// One ended HTTP stream, as the access log records it: what an <see cref="IHttpLogger"/> receives. Supervisors make it
/// only when the stream has an end observer (<see cref="ProxyStream.HasEndObservers"/>), so a listener without a logger
/// pays nothing for it.
/// </summary>
public sealed class HttpLogEntry
{
    /// <summary>When the stream started (the supervisor began reading its request), UTC.</summary>
    public required DateTime Started { get; init; }

    /// <summary>The listener's <c>name</c>.</summary>
    public required string Listener { get; init; }

    /// <summary>The client's address and port.</summary>
    public required EndPoint Client { get; init; }

    /// <summary>The request method, or null when no valid request head arrived.</summary>
    public string? Method { get; init; }

    /// <summary>The path as forwarded (normalised, and as analyzers left it), or null when no valid request head arrived.</summary>
    public string? Path { get; init; }

    /// <summary>The query with its leading <c>?</c>, or an empty string; null when no valid request head arrived.</summary>
    public string? Query { get; init; }

    /// <summary>The authority the request was for (Host), or null when absent or no valid request head arrived.</summary>
    public string? Authority { get; init; }

    /// <summary>The status sent to the client, or -1 when no response was sent.</summary>
    public int Status { get; init; } = -1;

    /// <summary>Bytes sent to the client for this stream (head and body).</summary>
    public long BytesToClient { get; init; }

    /// <summary>How the stream ended (<see cref="SessionTermination.Normal"/> when it completed).</summary>
    public SessionTermination Termination { get; init; }

    /// <summary>Why it ended, when it did not end normally (as the access log's last field), or null.</summary>
    public string? Detail { get; init; }

    /// <summary>The backend the stream went to, or null when none was chosen.</summary>
    public string? Backend { get; init; }

    /// <summary>The server the stream went to, or null when none was reached.</summary>
    public string? Server { get; init; }

    /// <summary>Connection attempts that failed before one succeeded or the supervisor gave up.</summary>
    public int Retries { get; init; }

    /// <summary>From the stream's start to its complete request head (the access log's TR), or null when it never came.</summary>
    public TimeSpan? RequestHeadTime { get; init; }

    /// <summary>Time spent connecting to the server (Tc; zero for a reused connection), or null when none was connected.</summary>
    public TimeSpan? ConnectTime { get; init; }

    /// <summary>From the complete request head to the response head (Tr), or null when no response head came.</summary>
    public TimeSpan? ResponseTime { get; init; }

    /// <summary>The whole stream, from its start to its end (Ta).</summary>
    public TimeSpan TotalTime { get; init; }
}
