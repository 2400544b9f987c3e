using System.Buffers;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;
using PluginProxy.Http.Codec;
using PluginProxy.Http.Codec.H1;

namespace PluginProxy.Http.Engine;

/// <summary>
/// A response body through the <see cref="IResponseBodyFilter"/> a response analyzer installed (compression): the server's
/// data, de-chunked, goes through the filter as it arrives, and the filter's output goes to the client with framing of
/// the proxy's own, since its length is not known in advance. Without a filter none of this runs: the body is relayed
/// byte-exact (<see cref="RelayBodyAsync"/>).
/// </summary>
internal sealed partial class HttpConnection
{
    /// <summary>
    /// Takes the filter the analyzers installed, if the response has a body: then <c>Content-Length</c> goes from the head
    /// and the body will go through the filter. A filter for a body-less response (HEAD, 204, 304) is disposed unused.
    /// </summary>
    /// <param name="stream">The stream.</param>
    /// <param name="kind">How the server frames the body.</param>
    /// <param name="chunked">True when the output goes to an HTTP/1.1 client in chunked coding.</param>
    private static bool TakeBodyFilter(HttpStream stream, BodyKind kind, bool chunked)
    {
        IResponseBodyFilter? filter = stream.Exchange.TakeResponseBodyFilter();
        if (filter is null)
        {
            return false;
        }

        (stream.Filtered ??= new FilteredBody()).Begin(filter, chunked);
        if (kind == BodyKind.None)
        {
            stream.Filtered.End();
            return false;
        }

        stream.Exchange.Response.Headers.Remove("Content-Length");
        return true;
    }

    /// <summary>The body bytes already received, through the filter, into <paramref name="output"/> after the head.</summary>
    private HttpParseError AppendFilteredBody(HttpStream stream, OutputBuffer output)
    {
        ref BodyFramer framer = ref stream.ResponseBody;
        while (!framer.IsDone && _response.Length > 0)
        {
            ReadOnlySpan<byte> data = _response.Data.Span;
            HttpParseError error = framer.Next(data, out int consumed, out Range forward);
            if (error != HttpParseError.None)
            {
                return error;
            }

            if (data[forward].Length > 0)
            {
                stream.Filtered!.Write(data[forward]);
            }

            _response.Consume(consumed);
            if (consumed == 0)
            {
                break;
            }
        }

        stream.Filtered!.EndRound(output, framer.IsDone, Trailers(stream));
        return HttpParseError.None;
    }

    /// <summary>
    /// The rest of a filtered response body, autonomously: each read goes through the filter, which is flushed when all
    /// that came is used (a slow stream reaches the client as it comes), and its output goes to the client.
    /// </summary>
    private async ValueTask<BodyResult> RelayFilteredBodyAsync(HttpStream stream)
    {
        Transport from = stream.Server!.Transport;
        FilteredBody filtered = stream.Filtered!;
        _response.ReadLimit = _bodyLimit;
        _response.Flags |= ChannelFlags.Autonomous;
        try
        {
            while (true)
            {
                if (_response.Length == 0)
                {
                    _deadlines.SetServer(stream.Backend!.Timeouts.Server);
                    _serverIo = true;
                    int n = await from.ReceiveAsync(_response.GetAppendBuffer(_bodyLimit), Token).ConfigureAwait(false);
                    if (n == 0)
                    {
                        if (!stream.ResponseBody.EndOfInput())
                        {
                            return BodyResult.SourceClosed;
                        }

                        await SendFilteredAsync(stream, complete: true).ConfigureAwait(false);
                        return BodyResult.Complete;
                    }

                    _response.Advance(n);
                }

                ReadOnlyMemory<byte> data = _response.Data;
                HttpParseError error = stream.ResponseBody.Next(data.Span, out int consumed, out Range forward);
                if (error != HttpParseError.None)
                {
                    stream.BodyError = error;
                    return BodyResult.FramingError;
                }

                if (data.Span[forward].Length > 0)
                {
                    filtered.Write(data.Span[forward]);
                }

                _response.Consume(consumed);
                if (stream.ResponseBody.IsDone)
                {
                    await SendFilteredAsync(stream, complete: true).ConfigureAwait(false);
                    return BodyResult.Complete;
                }

                if (_response.Length == 0)
                {
                    await SendFilteredAsync(stream, complete: false).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            _response.Flags &= ~ChannelFlags.Autonomous;
            _response.ReadLimit = _settings.MaxRequestHead;
        }
    }

    /// <summary>Flushes (or completes) the filter and sends what it wrote; an HTTP/2 stream ends with it when no trailers follow.</summary>
    private async ValueTask SendFilteredAsync(HttpStream stream, bool complete)
    {
        OutputBuffer output = stream.ClientOut;
        output.Start(256);
        stream.Filtered!.EndRound(output, complete, Trailers(stream));
        if (output.Length == 0)
        {
            return;
        }

        _deadlines.SetClient(_settings.Timeouts.Client);
        _serverIo = false;
        await (_h2 is null
            ? _client.SendAsync(output.Written, Token)
            : _h2.WriteDataAsync(output.Written, complete && !stream.Exchange.ResponseBody.HasTrailers, Token)).ConfigureAwait(false);
        stream.Log.BytesOut += output.Length;
    }

    /// <summary>
    /// A reply of the proxy's own whose body an after-response analyzer filters (compresses): the body is all here, so it
    /// goes through the filter at once, and the reply's length is that of the output.
    /// </summary>
    private static AnalyzerReply FilterReply(HttpStream stream, AnalyzerReply reply)
    {
        using IResponseBodyFilter filter = stream.Exchange.TakeResponseBodyFilter()!;
        var output = new ArrayBufferWriter<byte>(Math.Max(256, reply.Body.Length / 2));
        if (reply.Body.Length > 0)
        {
            filter.Write(reply.Body.Span, output);
        }

        filter.Complete(output);
        return new AnalyzerReply(reply.Status, output.WrittenMemory, reply.Headers) { Close = reply.Close };
    }

    /// <summary>The trailers that end a chunked body going to an HTTP/1.1 client, or null.</summary>
    private static HttpHeaders? Trailers(HttpStream stream) => stream.Exchange.ResponseBody.HasTrailers ? stream.Exchange.ResponseBody.Trailers : null;
}
