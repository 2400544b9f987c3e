namespace PluginProxy.Abstractions;

/// <summary>What <see cref="BalanceAlgorithm.Hash"/> hashes (<c>hash_key</c> in <c>[[backend]]</c>).</summary>
public enum HashKeySource
{
    /// <summary><c>source</c>: the client's address (the default; the only key a tcp listener knows).</summary>
    Source,

    /// <summary><c>uri</c>: the request's path.</summary>
    Uri,

    /// <summary><c>header:&lt;name&gt;</c>: the value of a request header (<see cref="IBackend.HashKeyName"/>).</summary>
    Header,

    /// <summary><c>cookie:&lt;name&gt;</c>: the value of a request cookie (<see cref="IBackend.HashKeyName"/>).</summary>
    Cookie,

    /// <summary><c>script</c>: the value an analyzer or script set for the stream (<see cref="ProxyStream.HashKey"/>).</summary>
    Script,
}
