using System.Diagnostics;
using PluginProxy.Abstractions;
using PluginProxy.Http.Upstream;

namespace PluginProxy.Http.Engine;

/// <summary>
/// Phase 4 for a server that speaks HTTP/2 (<c>proto = "h2"</c>): a stream on one of the few pooled connections to it
/// (<see cref="Http2ServerPool"/>), which the rest of the phases use as they use an HTTP/1.1 connection
/// (<see cref="Http2StreamTransport"/>).
/// </summary>
internal sealed partial class HttpConnection
{
    /// <param name="stream">The stream.</param>
    /// <param name="server">The HTTP/2 server.</param>
    /// <param name="made">A connection to it made already (the connector's pick), or null.</param>
    /// <param name="start">When the connect phase started.</param>
    private async ValueTask<StepOutcome> ConnectHttp2Async(HttpStream stream, IServer server, ServerConnection? made, long start)
    {
        ConnectResult failure = default;
        IBackend backend = stream.Backend!;
        ServerSelection selection = Selection(stream);
        async ValueTask<ServerConnection?> Connect(CancellationToken token)
        {
            if (Interlocked.Exchange(ref made, null) is { } ready)
            {
                return ready;
            }

            ConnectResult result = await _owner.Connector.ConnectAsync(backend, server, selection, token).ConfigureAwait(false);
            if (result.Connection is { } connection && ReferenceEquals(connection.Server, server))
            {
                return connection;
            }

            // The connector went on to another server: the pool's connections are to this one only.
            result.Connection?.Dispose();
            failure = result;
            return null;
        }

        Http2Lease? lease = await _owner.Http2Pool.OpenStreamAsync(server, Connect, Token).ConfigureAwait(false);
        Interlocked.Exchange(ref made, null)?.Dispose();
        if (lease is null)
        {
            stream.Fail(failure.Connection is null && failure.Failure != SessionTermination.Normal ? failure.Failure : SessionTermination.ServerRefused,
                failure.Detail ?? $"no HTTP/2 connection to {server.Name} (it closed before its SETTINGS)");
            return await SendErrorAsync(stream, failure.Failure == SessionTermination.ServerHandshakeFailed ? 502 : 503, close: true).ConfigureAwait(false);
        }

        stream.Server = new Http2StreamConnection(new Http2StreamTransport(_owner.Http2Pool, lease, Connect, stream.Exchange.Request), server);
        stream.Pooled = null;
        stream.ServerReused = false;
        stream.Log.Connect = Stopwatch.GetElapsedTime(start);
        return StepOutcome.Next;
    }
}
