using System.Diagnostics;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;
using PluginProxy.Http.Forwarding;

namespace PluginProxy.Http;

/// <summary>The less frequent paths to and from the server: new connections, replays, upgrades, stopping a request body.</summary>
internal sealed partial class HttpConnection
{
    private bool _replayable;
    private bool _responseStarted;
    private long _responseByteMark;
    private IBackend? _backend;
    private IServer? _picked;

    /// <summary>Makes a new server connection (with retries over the backend's servers). On failure answers 503 (502 for TLS) and returns false.</summary>
    private async ValueTask<bool> ConnectAsync(HttpStreamState state)
    {
        long start = Stopwatch.GetTimestamp();
        ConnectResult result = await ConnectToAsync(_picked, Selection(state)).ConfigureAwait(false);
        _retries = result.Retries;
        if (result.Connection is not { } connection)
        {
            _end = result.Failure;
            _detail = result.Detail;

            // As HAProxy: a server that cannot be reached (none up, refused, no answer to the connect) is a 503;
            // 502 is kept for a server that answered badly (a TLS handshake that failed or did not verify included)
            // or reset, 504 for one too slow to answer.
            await SendErrorAsync(result.Failure == SessionTermination.ServerHandshakeFailed ? 502 : 503, close: true).ConfigureAwait(false);
            return false;
        }

        _server = connection;
        _pooled = null;
        _serverReused = false;
        _connectMs = (long)Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        return true;
    }

    /// <summary>
    /// Replaces a reused connection that the server had closed by a new one, to the same server if it can be reached
    /// (with the same selection, so a <c>uri</c> hash still applies when it cannot), and sends the request again. Once.
    /// </summary>
    private async ValueTask<bool> ReplayOnFreshConnectionAsync()
    {
        IServer server = _server!.Server;
        CloseServer();
        _serverReused = false;
        _retries++;
        long start = Stopwatch.GetTimestamp();
        ConnectResult result = await ConnectToAsync(server, Selection(_state!)).ConfigureAwait(false);
        if (result.Connection is null)
        {
            return false;
        }

        _server = result.Connection;
        _logServer = _server.Server.Name;
        _connectMs = (long)Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        await _server.Transport.SendAsync(_state!.ServerOut.Written, Token).ConfigureAwait(false);
        Log.LogDebug("Session {Session}: pooled connection to {Server} was closed by the server; request replayed on a new one", _session.Id, server.Name);
        return true;
    }

    private ValueTask<ConnectResult> ConnectToAsync(IServer? first, ServerSelection selection) => first is not null
        ? _owner.Connector.ConnectAsync(_backend!, first, selection, Token)
        : _owner.Connector.ConnectAsync(_backend!, selection, Token);

    /// <summary>After 101 Switching Protocols: the head goes to the client, then both sides are joined as a tunnel.</summary>
    private async ValueTask TunnelAsync(HttpStreamState state)
    {
        _tResponse = Stopwatch.GetTimestamp();
        _status = 101;
        _phase = Phase.Tunnel;
        ClearDeadlines();
        HttpResponseHead response = state.Exchange.Response;
        OutputBuffer output = state.ClientOut;
        output.Start(state.ResponseFacts.HeadLength + 64);
        HeadWriter.WriteResponse(output, response, state.ResponseFacts, state.ResponseHead, new HeadWriter.ResponseOptions(false, false, false, Switching: true));
        _responseStarted = true;
        await _client.SendAsync(output.Written).ConfigureAwait(false);
        _bytesOut += output.Length;
        output.Release();

        // Bytes that arrived with the heads already belong to the new protocol.
        if (_response.Length > 0)
        {
            await _client.SendAsync(_response.Data).ConfigureAwait(false);
            _bytesOut += _response.Length;
            _response.Consume(_response.Length);
        }

        if (_request.Length > 0)
        {
            await _server!.Transport.SendAsync(_request.Data).ConfigureAwait(false);
            _request.Consume(_request.Length);
        }

        var relay = new TcpRelay(_session, _client, _server!.Transport, _backend!.Timeouts, _settings.BufferSize);
        await relay.RunAsync(_owner.Timeouts).ConfigureAwait(false);

        _bytesOut += _session.Log.BytesFromServer;
        _end = _session.Log.Termination;
        _closeClient = true;
    }

    /// <summary>Stops a request body still flowing (the exchange ended without it): both ends of its transfer are closed.</summary>
    private void AbortRequestBody()
    {
        CloseServer();
        try
        {
            _client.ShutdownReceive();
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or IOException)
        {
            // Already gone.
        }
    }

    private static async ValueTask<BodyResult> ObserveAsync(ValueTask<BodyResult> pump)
    {
        try
        {
            return await pump.ConfigureAwait(false);
        }
        catch (Exception ex) when (IsConnectionEnd(ex))
        {
            return BodyResult.Aborted;
        }
    }
}
