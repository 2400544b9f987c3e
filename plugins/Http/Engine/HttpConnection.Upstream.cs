using System.Diagnostics;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;
using PluginProxy.Http.Codec;
using PluginProxy.Http.Codec.H1;

namespace PluginProxy.Http.Engine;

/// <summary>The less frequent paths to and from the server: replays, upgrades, stopping a request body, closing.</summary>
internal sealed partial class HttpConnection
{
    /// <summary>Connects to the server of the stream's lease (a retry may move the lease to another server: the stream keeps the one held after).</summary>
    private async ValueTask<ConnectResult> ConnectToAsync(HttpStream stream)
    {
        ConnectResult result = await _owner.Connector.ConnectAsync(stream.Backend!, stream.Slot, Selection(stream), Token).ConfigureAwait(false);
        if (result.Lease.IsHeld)
        {
            stream.Slot = result.Lease;
        }

        return result;
    }

    /// <summary>True while the request may go again on a fresh connection: a reused one, a replayable request, nothing answered yet.</summary>
    private bool CanReplayOnFreshConnection(HttpStream stream) =>
        stream.ServerReused && stream.Replayable && _response.TotalBytes == stream.ResponseByteMark && stream.Server is not null;

    /// <summary>
    /// Replaces a reused connection that the server had closed by a new one, to the same server if it can be reached
    /// (with the same selection, so a <c>uri</c> hash still applies when it cannot), and sends the request again. Once.
    /// </summary>
    private async ValueTask<bool> ReplayOnFreshConnectionAsync(HttpStream stream)
    {
        IServer server = stream.Server!.Server;
        CloseServer(stream);
        stream.ServerReused = false;
        stream.Log.Retries++;
        long start = Stopwatch.GetTimestamp();
        ConnectResult result = await ConnectToAsync(stream).ConfigureAwait(false);
        if (result.Connection is null)
        {
            return false;
        }

        stream.Server = result.Connection;
        stream.Log.Server = stream.Server.Server;
        stream.Log.Connect = Stopwatch.GetElapsedTime(start);
        await stream.Server.Transport.SendAsync(stream.ServerOut.Written, Token).ConfigureAwait(false);
        Log.LogDebug("Session {Session}: pooled connection to {Server} was closed by the server; request replayed on a new one", _session.Id, server.Name);
        return true;
    }

    /// <summary>101 Switching Protocols: a tunnel if the client asked to upgrade, else a 502 (a server may not switch unasked).</summary>
    private async ValueTask<StepOutcome> SwitchProtocolsAsync(HttpStream stream)
    {
        if (!stream.RequestFacts.IsUpgrade)
        {
            stream.Fail(SessionTermination.BadResponse, "101 Switching Protocols without an upgrade request");
            return await SendErrorAsync(stream, 502, close: true).ConfigureAwait(false);
        }

        stream.Log.ResponseHead = Stopwatch.GetTimestamp();
        stream.Log.Status = 101;
        _deadlines.Phase = StreamPhase.Tunnel;
        _deadlines.Clear();
        OutputBuffer output = stream.ClientOut;
        output.Start(stream.ResponseFacts.HeadLength + 64);
        HeadWriter.WriteResponse(output, stream.Exchange.Response, stream.ResponseFacts, stream.ResponseHead, new HeadWriter.ResponseOptions(false, false, false, Switching: true));
        stream.ResponseStarted = true;
        await _client.SendAsync(output.Written).ConfigureAwait(false);
        stream.Log.BytesOut += output.Length;
        output.Release();

        // Bytes that arrived with the heads already belong to the new protocol.
        if (_response.Length > 0)
        {
            await _client.SendAsync(_response.Data).ConfigureAwait(false);
            stream.Log.BytesOut += _response.Length;
            _response.Consume(_response.Length);
        }

        if (_request.Length > 0)
        {
            await stream.Server!.Transport.SendAsync(_request.Data).ConfigureAwait(false);
            _request.Consume(_request.Length);
        }

        _request.Flags |= ChannelFlags.Autonomous;
        _response.Flags |= ChannelFlags.Autonomous;
        var relay = new TcpRelay(_session, _client, stream.Server!.Transport, stream.Backend!.Timeouts, _settings.BufferSize);
        await relay.RunAsync(_owner.Timeouts).ConfigureAwait(false);
        _request.Flags &= ~ChannelFlags.Autonomous;
        _response.Flags &= ~ChannelFlags.Autonomous;

        stream.Log.BytesOut += _session.Log.BytesFromServer;
        stream.Log.End = _session.Log.Termination;
        return StepOutcome.Close;
    }

    /// <summary>Stops a request body still flowing (the exchange ended without it): both ends of its transfer are closed.</summary>
    private void AbortRequestBody(HttpStream stream)
    {
        CloseServer(stream);
        if (_h2 is not null)
        {
            // Only this stream stops: NO_ERROR once the response is complete (RFC 9113 §8.1), else CANCEL.
            _h2.Reset(_h2.ResponseEnded ? Codec.H2.Http2ErrorCode.NoError : Codec.H2.Http2ErrorCode.Cancel);
            return;
        }

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

    private static void CloseServer(HttpStream stream)
    {
        if (stream.Pooled is not null)
        {
            stream.Pooled.Close();
        }
        else
        {
            stream.Server?.Dispose();
        }

        stream.Server = null;
        stream.Pooled = null;
    }
}
