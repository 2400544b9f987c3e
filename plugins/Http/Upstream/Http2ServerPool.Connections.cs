using PluginProxy.Abstractions;
using PluginProxy.Http.Engine.H2.Upstream;

namespace PluginProxy.Http.Upstream;

/// <summary>The life of one pooled connection: connected, run in the background, removed and disposed when it ended.</summary>
internal sealed partial class Http2ServerPool
{
    /// <summary>Connects and starts the connection's reader; it joins the pool unless the pool was disposed meanwhile.</summary>
    private async ValueTask<Http2PooledConnection?> ConnectAsync(Http2ServerConnections entry, Func<CancellationToken, ValueTask<Transport?>>? connectTransport,
        Func<CancellationToken, ValueTask<ServerConnection?>>? connectServer, CancellationToken token)
    {
        Http2PooledConnection? pooled = null;
        try
        {
            if (connectTransport is not null)
            {
                if (await connectTransport(token).ConfigureAwait(false) is { } transport)
                {
                    pooled = new Http2PooledConnection(new Http2ServerConnection(transport, _options.Connection), transport, null);
                }
            }
            else if (await connectServer!(token).ConfigureAwait(false) is { } connection)
            {
                pooled = new Http2PooledConnection(new Http2ServerConnection(connection.Transport, _options.Connection), connection, connection);
            }
        }
        finally
        {
            lock (entry.Gate)
            {
                entry.Connecting--;
                if (pooled is not null)
                {
                    if (!_disposed)
                    {
                        pooled.Pooled = true;
                        entry.Connections.Add(pooled);
                        Interlocked.Increment(ref _pooled);
                    }

                    // Started under the gate, so that it leaves the list only after it joined it.
                    pooled.Ended = RunAsync(entry, pooled);
                }

                // A stream that waited for this connection may connect itself now, or use it once it is ready.
                entry.SignalLocked();
            }
        }

        return pooled;
    }

    /// <summary>Runs the connection's reader; when the connection ended, it leaves the pool and its transport is disposed.</summary>
    private async Task RunAsync(Http2ServerConnections entry, Http2PooledConnection pooled)
    {
        _ = pooled.Connection.SettingsReceived.ContinueWith(static (_, state) => ((Http2ServerConnections)state!).Signal(), entry,
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        try
        {
            await Task.Run(pooled.Connection.RunAsync).ConfigureAwait(false);
        }
        finally
        {
            lock (entry.Gate)
            {
                if (pooled.Pooled && entry.Connections.Remove(pooled))
                {
                    Interlocked.Decrement(ref _pooled);
                }

                entry.SignalLocked();
            }

            pooled.Close();
        }
    }
}
