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

    /// <summary><c>retry_on</c>, <c>redispatch</c> and the retry budget: what is retried, where, and how many retries may run at once.</summary>
    RetryPolicy RetryPolicy => RetryPolicy.Default;

    /// <summary>
    /// Asks the retry budget for one retry (a connection attempt or a request sent again): true when it may start, and
    /// then <see cref="EndRetry"/> must follow once it is decided; false when too many retries run already (the caller
    /// gives up and answers with the failure it has).
    /// </summary>
    bool TryBeginRetry() => true;

    /// <summary>A retry <see cref="TryBeginRetry"/> let start is decided (answered, failed, or its stream ended).</summary>
    void EndRetry()
    {
    }

    /// <summary>
    /// Tells the backend that <paramref name="server"/> failed an attempt the access log will not show: its answer was
    /// dropped for a retry (a 5xx, no response, no response in time). Passive health checks count it.
    /// </summary>
    /// <param name="server">The server that failed.</param>
    /// <param name="reason">What it did, short (<c>answered 503</c>).</param>
    void ReportFailure(IServer server, string reason)
    {
    }
    /// <summary>What <see cref="BalanceAlgorithm.Hash"/> hashes (<c>hash_key</c>); <see cref="HashKeySource.Source"/> unless configured.</summary>
    HashKeySource HashKeySource => HashKeySource.Source;

    /// <summary>The header or cookie name of <c>hash_key = "header:&lt;name&gt;"</c> or <c>"cookie:&lt;name&gt;"</c>, else null.</summary>
    string? HashKeyName => null;

    /// <summary>
    /// <c>cookie</c>: the name of the persistence cookie the proxy inserts into responses (its value names the server), or
    /// null when the backend inserts none. A request whose cookie names a server of this backend that can take it goes there.
    /// </summary>
    string? PersistCookie => null;

    /// <summary><c>stick_table</c>: the table that remembers which server served each key (persistence), or null.</summary>
    Tables.IStickTable? StickTable => null;

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

    /// <summary>
    /// A slot on a server not in <paramref name="exclude"/> that has one free, without waiting (a retry moving to another
    /// server; persistence is not applied): false when there is none. Without any <c>maxconn</c> this is
    /// <see cref="PickServer"/>.
    /// </summary>
    /// <param name="selection">What the pick may depend on.</param>
    /// <param name="exclude">Servers already tried for this stream, or null.</param>
    /// <param name="lease">The lease taken, to release when the stream ends; default when there is none.</param>
    bool TryAcquireNow(ServerSelection selection, IReadOnlyCollection<IServer>? exclude, out ServerLease lease)
    {
        IServer? server = PickServer(selection with { Preferred = null }, exclude);
        lease = server is null ? default : new ServerLease(server, null, TimeSpan.Zero);
        return server is not null;
    }
}
