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

    /// <summary>
    /// Connects to <paramref name="first"/>, a server of <paramref name="backend"/> the caller already picked (to look for
    /// an idle connection to it first, say): the backend is not asked to pick again unless that attempt fails, and then
    /// the other servers are tried as <see cref="ConnectAsync(IBackend, ServerSelection, CancellationToken)"/> does.
    /// </summary>
    /// <param name="backend">The backend <paramref name="first"/> belongs to.</param>
    /// <param name="first">The server to try first.</param>
    /// <param name="selection">What further picks may depend on.</param>
    /// <param name="cancellationToken">Abandons the attempt (the session is ending).</param>
    ValueTask<ConnectResult> ConnectAsync(IBackend backend, IServer first, ServerSelection selection, CancellationToken cancellationToken) =>
        ConnectAsync(backend, selection, cancellationToken);

    /// <summary>
    /// Connects to the server of <paramref name="lease"/> (<see cref="IBackend.AcquireAsync"/>); when that fails and the
    /// backend's <c>retries</c> allow, to other servers, taking a slot on each (a server at its <c>maxconn</c> is passed
    /// over) and giving back the one held before. <see cref="ConnectResult.Lease"/> is the lease held afterwards, whether
    /// a connection was made or not: the caller releases that one, not <paramref name="lease"/>.
    /// </summary>
    /// <param name="backend">The backend the lease's server belongs to.</param>
    /// <param name="lease">The stream's lease (held).</param>
    /// <param name="selection">What further picks may depend on.</param>
    /// <param name="cancellationToken">Abandons the attempt (the session is ending).</param>
    async ValueTask<ConnectResult> ConnectAsync(IBackend backend, ServerLease lease, ServerSelection selection, CancellationToken cancellationToken)
    {
        ConnectResult result = lease.Server is { } server
            ? await ConnectAsync(backend, server, selection, cancellationToken).ConfigureAwait(false)
            : await ConnectAsync(backend, selection, cancellationToken).ConfigureAwait(false);
        return result with { Lease = lease };
    }
}
