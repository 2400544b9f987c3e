namespace PluginProxy.Abstractions.Http;

/// <summary>
/// The upstream phase (Pingora's <c>upstream_peer</c>): chooses the backend a stream goes to, once its request head is
/// complete. The backend's balancing then picks the server.
/// </summary>
/// <remarks>
/// Announce it with <see cref="IPluginBuilder.AddUpstreamSelector{TSelector}(string)"/> and list its name in
/// <c>request_analyzers</c>; it runs after <c>http_lb_req</c> (which applies the listener's routes), so what it returns
/// overrides the route. The last selector that returns a backend wins.
/// </remarks>
public interface IHttpUpstreamSelector
{
    /// <summary>The most time a call may take, or null for the listener's <c>timeout_request</c>.</summary>
    TimeSpan? Timeout => null;

    /// <summary>
    /// The backend for this stream (for example <c>context.Backends.Find("api")</c>), or null to keep the one already
    /// chosen (<see cref="HttpFilterContext.Backend"/>: the route's or the listener's default).
    /// </summary>
    /// <param name="context">The stream: its request head, session, variables and current backend.</param>
    /// <param name="cancellationToken">Signalled when the phase's timeout expires or the session ends.</param>
    ValueTask<IBackend?> SelectBackendAsync(HttpFilterContext context, CancellationToken cancellationToken);
}
