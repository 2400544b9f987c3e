namespace PluginProxy.Abstractions.Http;

/// <summary>
/// The logging phase (Pingora's <c>logging</c>): called once per stream after it ended, with what the access log records.
/// </summary>
/// <remarks>
/// Announce it with <see cref="IPluginBuilder.AddHttpLogger{TLogger}(string)"/> and list its name first in
/// <c>request_analyzers</c> (every stream whose request head arrived, including those that then fail to reach a server or
/// that the client abandons) or in <c>after_response_analyzers</c> (every stream that got a response, the proxy's own
/// replies included). Listing it is what subscribes the stream: a stream that ended before the phase ran (an earlier
/// analyzer denied it) is not logged by it.
/// <see cref="Log"/> runs on the connection's thread before the next request of the connection: never block; hand slow
/// work (a network sink) to a queue.
/// </remarks>
public interface IHttpLogger
{
    /// <summary>Records one ended stream.</summary>
    /// <param name="context">The stream as it ended (heads, variables, backend); valid during this call only.</param>
    /// <param name="entry">What the access log records: request line, status, bytes, termination, names, timings.</param>
    void Log(HttpFilterContext context, HttpLogEntry entry);
}
