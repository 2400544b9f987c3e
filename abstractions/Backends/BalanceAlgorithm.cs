namespace PluginProxy.Abstractions;

/// <summary>How a backend picks a server (<c>balance</c> in <c>[[backend]]</c>).</summary>
public enum BalanceAlgorithm
{
    /// <summary><c>roundrobin</c>: each server in turn, in proportion to its weight (smooth: heavy servers are interleaved, not bunched).</summary>
    RoundRobin,

    /// <summary><c>leastconn</c>: the server with the fewest streams in flight (<see cref="IServer.ActiveStreams"/>: idle pooled connections do not count) relative to its weight.</summary>
    LeastConn,

    /// <summary><c>source</c>: a hash of the client address, so one client keeps landing on the same server while the set of servers is stable.</summary>
    Source,

    /// <summary><c>uri</c>: a hash of the request URI (the selection's hash key), for cache affinity.</summary>
    Uri,

    /// <summary><c>random</c>: a random server, in proportion to weight.</summary>
    Random,

    /// <summary>
    /// <c>hash</c>: consistent hashing of the key named by <c>hash_key</c> (<see cref="IBackend.HashKeySource"/>): one key
    /// keeps landing on the same server, and a server going down or coming back moves only its own share of the keys. A
    /// stream without the key (no such header or cookie) is balanced round robin.
    /// </summary>
    Hash,
}
