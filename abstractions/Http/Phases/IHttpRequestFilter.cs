namespace PluginProxy.Abstractions.Http;

/// <summary>
/// The request phase (Pingora's <c>request_filter</c>): called once per stream when the request head is complete, before
/// a server is chosen. It may change the request head (path, query, header fields) or answer the client itself.
/// </summary>
/// <remarks>
/// Announce it with <see cref="IPluginBuilder.AddRequestFilter{TFilter}(string)"/> and list its name in
/// <c>request_analyzers</c>: it runs there as a flow analyzer, in the listed order, with the same rules (an exception ends
/// only its stream, with a 500). It must run after <c>http_lb_req</c>, which parses the head: that is where it runs unless
/// the listener places <c>http_lb_req</c> itself after it, which fails every stream with a message saying so.
/// One instance serves every stream concurrently: keep per-stream state in <see cref="HttpFilterContext.Variables"/>.
/// </remarks>
public interface IHttpRequestFilter
{
    /// <summary>The most time a call may take, or null for the listener's <c>timeout_request</c>.</summary>
    TimeSpan? Timeout => null;

    /// <summary>Looks at (and may change) the request head; says whether the stream goes on or is answered here.</summary>
    /// <param name="context">The stream: its request head, session, variables and backend.</param>
    /// <param name="cancellationToken">Signalled when the phase's timeout expires or the session ends.</param>
    ValueTask<FilterResult> OnRequestAsync(HttpFilterContext context, CancellationToken cancellationToken);
}
