namespace PluginProxy.Abstractions;

/// <summary>A named group of servers and the way to pick one (one <c>[[backend]]</c> table).</summary>
public interface IBackend
{
    /// <summary>The backend's <c>name</c>.</summary>
    string Name { get; }

    /// <summary>How a server is picked.</summary>
    BalanceAlgorithm Balance { get; }

    /// <summary>The servers, in configuration order.</summary>
    IReadOnlyList<IServer> Servers { get; }

    /// <summary>The server-side timeouts (<c>timeout_connect</c>, <c>timeout_server</c>, <c>timeout_tunnel</c>) of this backend.</summary>
    ProxyTimeouts Timeouts { get; }

    /// <summary><c>retries</c>: how many more connection attempts follow a failed one, on other servers while there are any.</summary>
    int Retries { get; }

    /// <summary><c>http_reuse</c>: which requests may go on an idle pooled connection to a server.</summary>
    HttpReuse HttpReuse => HttpReuse.Safe;

    /// <summary>Picks a server that is up and not in <paramref name="exclude"/>, or null when there is none.</summary>
    /// <param name="selection">What the pick may depend on.</param>
    /// <param name="exclude">Servers already tried for this stream, or null.</param>
    IServer? PickServer(in ServerSelection selection, IReadOnlyCollection<IServer>? exclude = null);

    /// <summary>
    /// Picks a server for one stream and takes a slot on it, waiting in the backend's queue (at most
    /// <see cref="ProxyTimeouts.Queue"/>) while every server that may take the stream is at its <c>maxconn</c>. Without
    /// any <c>maxconn</c> this is <see cref="PickServer"/>, completed at once, allocating nothing.
    /// </summary>
    /// <param name="selection">What the pick may depend on; a <see cref="ServerSelection.Preferred"/> server that is up is waited for.</param>
    /// <param name="exclude">Servers already tried for this stream, or null.</param>
    /// <param name="cancellationToken">Abandons the wait (the stream is ending): no slot is then held.</param>
    /// <returns>The lease to release when the stream ends (see <see cref="ServerLease"/>), or a failed one (no server up, queue timeout).</returns>
    ValueTask<ServerLease> AcquireAsync(ServerSelection selection, IReadOnlyCollection<IServer>? exclude, CancellationToken cancellationToken) =>
        new(PickServer(selection, exclude) is { } server
            ? new ServerLease(server, null, TimeSpan.Zero)
            : ServerLease.Failed(SessionTermination.NoServer, $"backend \"{Name}\" has no server up", TimeSpan.Zero));
}
