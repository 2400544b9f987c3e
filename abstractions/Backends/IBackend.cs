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
}
