using System.Net.Sockets;
using System.Runtime.CompilerServices;
using PluginProxy.Abstractions;
using PluginProxy.Http.Codec.H1;

namespace PluginProxy.Http.Engine;

internal sealed partial class HttpConnection
{
    /// <summary>
    /// Forwards the rest of a body with the channel in autonomous mode: no analyzer is called, only the framing is
    /// followed so that exactly the body's bytes pass and anything after them (a pipelined request) stays in the channel.
    /// The request body runs beside the response phases; the response body is the last phase. A broken request-body
    /// transfer is reported as a result (the response side may still be fine); on the response side, errors propagate.
    /// </summary>
    private async ValueTask<BodyResult> RelayBodyAsync(HttpStream stream, bool requestSide)
    {
        Channel channel = requestSide ? _request : _response;
        Transport from = requestSide ? _client : stream.Server!.Transport;
        Transport to = requestSide ? stream.Server!.Transport : _client;
        long maxBody = requestSide ? _options.MaxRequestBody ?? -1 : -1;
        channel.ReadLimit = _bodyLimit;
        channel.Flags |= ChannelFlags.Autonomous;
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
                        _deadlines.SetClient(_settings.Timeouts.Client);
                    }
                    else
                    {
                        _deadlines.SetServer(stream.Backend!.Timeouts.Server);
                        _serverIo = true;
                    }

                    int n = await from.ReceiveAsync(channel.GetAppendBuffer(_bodyLimit), Token).ConfigureAwait(false);
                    if (n == 0)
                    {
                        return Framer(stream, requestSide).EndOfInput() ? BodyResult.Complete : BodyResult.SourceClosed;
                    }

                    channel.Advance(n);
                }

                ReadOnlyMemory<byte> data = channel.Data;
                HttpParseError error = Framer(stream, requestSide).Next(data.Span, out int consumed, out Range forward);
                if (error != HttpParseError.None)
                {
                    stream.BodyError = error;
                    return BodyResult.FramingError;
                }

                if (maxBody >= 0 && stream.RequestBody.BodyBytes > maxBody)
                {
                    return BodyResult.TooLarge;
                }

                (int offset, int length) = forward.GetOffsetAndLength(data.Length);
                if (length > 0)
                {
                    reading = false;
                    if (!requestSide)
                    {
                        _deadlines.SetClient(_settings.Timeouts.Client);
                        _serverIo = false;
                    }

                    await (requestSide || _h2 is null
                        ? to.SendAsync(data.Slice(offset, length), Token)
                        : _h2.WriteDataAsync(data.Slice(offset, length), EndsWithData(stream), Token)).ConfigureAwait(false);
                    if (!requestSide)
                    {
                        stream.Log.BytesOut += length;
                    }
                }

                if (requestSide)
                {
                    stream.Log.BytesIn += consumed;
                }

                channel.Consume(consumed);
                if (Framer(stream, requestSide).IsDone)
                {
                    return BodyResult.Complete;
                }
            }
        }
        catch (Exception ex) when (requestSide && ex is SocketException or ObjectDisposedException or IOException)
        {
            return reading ? BodyResult.SourceFailed : BodyResult.DestinationFailed;
        }
        finally
        {
            channel.Flags &= ~ChannelFlags.Autonomous;
            channel.ReadLimit = _settings.MaxRequestHead;
        }
    }

    private static ref BodyFramer Framer(HttpStream stream, bool requestSide) => ref requestSide ? ref stream.RequestBody : ref stream.ResponseBody;

    /// <summary>Records why a body transfer failed, unless an earlier cause (a timeout) was recorded.</summary>
    private static void RecordBodyFailure(HttpStream stream, BodyResult result, bool requestSide)
    {
        (SessionTermination end, string detail) = (result, requestSide) switch
        {
            (BodyResult.SourceClosed, true) => (SessionTermination.ClientAborted, "the client closed during the request body"),
            (BodyResult.SourceFailed, true) => (SessionTermination.ClientAborted, "the client reset during the request body"),
            (BodyResult.DestinationFailed, true) => (SessionTermination.ServerAborted, "the server stopped reading the request body"),
            (BodyResult.FramingError, true) => (SessionTermination.BadRequest, HttpParseErrors.Describe(stream.BodyError)),
            (BodyResult.TooLarge, _) => (SessionTermination.BadRequest, "request body larger than max_request_body"),
            (BodyResult.SourceClosed, false) => (SessionTermination.ServerAborted, "the server closed before the end of the response body"),
            (BodyResult.SourceFailed, false) => (SessionTermination.ServerAborted, "the server reset during the response body"),
            (BodyResult.DestinationFailed, false) => (SessionTermination.ClientAborted, "the client stopped reading the response"),
            (BodyResult.FramingError, false) => (SessionTermination.BadResponse, HttpParseErrors.Describe(stream.BodyError)),
            _ => (SessionTermination.Normal, ""),
        };

        if (end != SessionTermination.Normal)
        {
            stream.Fail(end, detail);
        }
    }
}
