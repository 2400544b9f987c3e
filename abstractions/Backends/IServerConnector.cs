namespace PluginProxy.Abstractions;

/// <summary>
/// Picks a server of a backend and connects to it within the backend's <c>timeout_connect</c>; on refusal, reset or timeout
/// it tries another server, up to the backend's <c>retries</c>. Provided by the host; supervisors receive it by injection.
/// </summary>
public interface IServerConnector
{
    /// <summary>Connects to a server of <paramref name="backend"/>.</summary>
    /// <param name="backend">The backend to pick from.</param>
    /// <param name="selection">What the pick may depend on.</param>
    /// <param name="cancellationToken">Abandons the attempt (the session is ending).</param>
    ValueTask<ConnectResult> ConnectAsync(IBackend backend, ServerSelection selection, CancellationToken cancellationToken);
}
