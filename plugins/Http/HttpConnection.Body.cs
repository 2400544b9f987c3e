using System.Net.Sockets;
using System.Runtime.CompilerServices;
using PluginProxy.Abstractions;
using PluginProxy.Http.Forwarding;
using PluginProxy.Http.Parsing;

namespace PluginProxy.Http;

/// <summary>How a body transfer ended.</summary>
internal enum BodyResult
{
    /// <summary>The whole body was forwarded.</summary>
    Complete,

    /// <summary>The sending side closed before the end of the body.</summary>
    SourceClosed,

    /// <summary>Reading from the sending side failed (reset).</summary>
    SourceFailed,

    /// <summary>Writing to the receiving side failed.</summary>
    DestinationFailed,

    /// <summary>The body's framing (chunked coding) is invalid.</summary>
    FramingError,

    /// <summary>The request body grew past max_request_body.</summary>
    TooLarge,

    /// <summary>The transfer was stopped by the proxy (the other direction failed or ended early).</summary>
    Aborted,
}

internal sealed partial class HttpConnection
{
    private HttpParseError _bodyError;

    /// <summary>
    /// Forwards the rest of a body in autonomous mode: no analyzer is called, only the framing is followed so that
    /// exactly the body's bytes pass and anything after them (a pipelined request) stays in the channel.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<BodyResult> PumpAsync(bool requestSide)
    {
        Channel channel = requestSide ? _request : _response;
        Transport from = requestSide ? _client : _server!.Transport;
        Transport to = requestSide ? _server!.Transport : _client;
        TimeSpan? sourceTimeout = requestSide ? _settings.Timeouts.Client : _backend!.Timeouts.Server;
        channel.ReadLimit = _bodyLimit;
        bool reading = true;
        try
        {
            while (true)
            {
                if (channel.Length == 0)
                {
                    reading = true;
                    if (requestSide)
                    {
                        SetClientDeadline(sourceTimeout);
                    }
                    else
                    {
                        SetServerDeadline(sourceTimeout);
                    }

                    int n = await from.ReceiveAsync(channel.GetAppendBuffer(_bodyLimit), Token).ConfigureAwait(false);
                    if (n == 0)
                    {
                        return Framer(requestSide).EndOfInput() ? BodyResult.Complete : BodyResult.SourceClosed;
                    }

                    channel.Advance(n);
                }

                ReadOnlyMemory<byte> data = channel.Data;
                HttpParseError error = Framer(requestSide).Next(data.Span, out int consumed, out Range forward);
                if (error != HttpParseError.None)
                {
                    _bodyError = error;
                    return BodyResult.FramingError;
                }

                if (requestSide && _state!.MaxRequestBody >= 0 && _state!.RequestBody.BodyBytes > _state.MaxRequestBody)
                {
                    return BodyResult.TooLarge;
                }

                (int offset, int length) = forward.GetOffsetAndLength(data.Length);
                if (length > 0)
                {
                    reading = false;
                    if (!requestSide)
                    {
                        SetClientDeadline(_settings.Timeouts.Client);
                    }

                    await to.SendAsync(data.Slice(offset, length), Token).ConfigureAwait(false);
                    if (!requestSide)
                    {
                        _bytesOut += length;
                    }
                }

                channel.Consume(consumed);
                if (Framer(requestSide).IsDone)
                {
                    return BodyResult.Complete;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or IOException)
        {
            return reading ? BodyResult.SourceFailed : BodyResult.DestinationFailed;
        }
        finally
        {
            channel.ReadLimit = _settings.MaxRequestHead;
        }
    }

    private ref BodyFramer Framer(bool requestSide) => ref requestSide ? ref _state!.RequestBody : ref _state!.ResponseBody;

    /// <summary>Records why a body transfer failed, unless an earlier cause (a timeout) was recorded.</summary>
    private void RecordBodyFailure(BodyResult result, bool requestSide)
    {
        if (_end != SessionTermination.Normal || result == BodyResult.Complete)
        {
            return;
        }

        (_end, _detail) = (result, requestSide) switch
        {
            (BodyResult.SourceClosed, true) => (SessionTermination.ClientAborted, "the client closed during the request body"),
            (BodyResult.SourceFailed, true) => (SessionTermination.ClientAborted, "the client reset during the request body"),
            (BodyResult.DestinationFailed, true) => (SessionTermination.ServerAborted, "the server stopped reading the request body"),
            (BodyResult.FramingError, true) => (SessionTermination.BadRequest, HttpParseErrors.Describe(_bodyError)),
            (BodyResult.TooLarge, _) => (SessionTermination.BadRequest, "request body larger than max_request_body"),
            (BodyResult.SourceClosed, false) => (SessionTermination.ServerAborted, "the server closed before the end of the response body"),
            (BodyResult.SourceFailed, false) => (SessionTermination.ServerAborted, "the server reset during the response body"),
            (BodyResult.DestinationFailed, false) => (SessionTermination.ClientAborted, "the client stopped reading the response"),
            (BodyResult.FramingError, false) => (SessionTermination.BadResponse, HttpParseErrors.Describe(_bodyError)),
            _ => (_end, _detail),
        };
    }
}
