namespace PluginProxy.Abstractions.Http;

/// <summary>
/// The response phase (Pingora's <c>response_filter</c>): called on the final response head before it goes to the client.
/// It may change the status and header fields, or replace the response with a reply of its own.
/// </summary>
/// <remarks>
/// Announce it with <see cref="IPluginBuilder.AddResponseFilter{TFilter}(string)"/> and list its name in
/// <c>response_analyzers</c> (the server's responses) or <c>after_response_analyzers</c> (every response, the proxy's own
/// replies too: a deny, an error page). Interim (1xx) heads do not reach it. It must run after <c>http_lb_resp</c>, which
/// parses the head: that is where it runs unless the listener places <c>http_lb_resp</c> itself after it.
/// </remarks>
public interface IHttpResponseFilter
{
    /// <summary>The most time a call may take, or null for the listener's <c>timeout_request</c>.</summary>
    TimeSpan? Timeout => null;

    /// <summary>Looks at (and may change) the response head; says whether it goes on or is replaced.</summary>
    /// <param name="context">The stream: its request and response heads, session, variables and backend.</param>
    /// <param name="cancellationToken">Signalled when the phase's timeout expires or the session ends.</param>
    ValueTask<FilterResult> OnResponseAsync(HttpFilterContext context, CancellationToken cancellationToken);
}
