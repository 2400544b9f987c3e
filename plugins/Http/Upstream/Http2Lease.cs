using PluginProxy.Abstractions;
using PluginProxy.Http.Engine.H2.Upstream;

namespace PluginProxy.Http.Upstream;

/// <summary>
/// A request stream on a pooled HTTP/2 connection, as <see cref="Http2ServerPool.OpenStreamAsync(IServer, Func{CancellationToken, ValueTask{Transport}}, CancellationToken)"/>
/// gives it. Use <see cref="Stream"/>, then dispose the lease: that disposes the stream (reset with CANCEL if still
/// open) and gives its room on the connection back to the pool. Disposing twice does nothing.
/// </summary>
internal sealed class Http2Lease : IDisposable
{
    private readonly Http2ServerPool _pool;
    private readonly Http2ServerConnections _entry;
    private readonly Http2PooledConnection _pooled;
    private int _disposed;

    internal Http2Lease(Http2ServerPool pool, Http2ServerConnections entry, Http2PooledConnection pooled, Http2ClientStream stream, IServer server, bool newConnection)
    {
        _pool = pool;
        _entry = entry;
        _pooled = pooled;
        Stream = stream;
        Server = server;
        IsNewConnection = newConnection;
    }

    /// <summary>The stream: write the request head first.</summary>
    public Http2ClientStream Stream { get; }

    /// <summary>The connection the stream is on.</summary>
    public Http2ServerConnection Connection => _pooled.Connection;

    /// <summary>The server the connection goes to.</summary>
    public IServer Server { get; }

    /// <summary>True when the connection was opened for this stream (false: an existing one was reused).</summary>
    public bool IsNewConnection { get; }

    /// <summary>Disposes the stream and gives its room back to the pool.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Stream.Dispose();
        _pool.Release(_entry, _pooled);
    }
}
