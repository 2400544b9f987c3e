using PluginProxy.Http.Engine.H2.Upstream;

namespace PluginProxy.Http.Upstream;

/// <summary>How an <see cref="Http2ServerPool"/> keeps its connections: how many per server, and how long one may stay unused.</summary>
internal sealed class Http2PoolOptions
{
    /// <summary>The defaults.</summary>
    public static Http2PoolOptions Default { get; } = new();

    /// <summary>
    /// The most connections per server that take new streams (draining ones, after a GOAWAY, are not counted). When all
    /// of them are at the server's MAX_CONCURRENT_STREAMS, a new stream waits for one to end.
    /// </summary>
    public int MaxConnectionsPerServer { get; init; } = 4;

    /// <summary>How long a connection may carry no stream before it is shut down (GOAWAY) and leaves the pool.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>What each connection advertises and buffers (null: <see cref="Http2UpstreamOptions.Default"/>).</summary>
    public Http2UpstreamOptions? Connection { get; init; }

    /// <summary>Checks the values.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxConnectionsPerServer, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(IdleTimeout, TimeSpan.Zero);
        Connection?.Validate();
    }
}
