using PluginProxy.Http.Codec.H2;

namespace PluginProxy.Http.Engine.H2.Upstream;

/// <summary>Response heads and trailers (RFC 9113 §8.1, §8.3.2): decoded, checked, given to their stream.</summary>
internal sealed partial class Http2ServerConnection
{
    /// <summary>Decodes a whole header block (always, to keep HPACK in step) and gives it to its stream.</summary>
    private Http2Error OnHeaderBlock(int streamId)
    {
        bool trailers;
        lock (_sync)
        {
            trailers = _streams.TryGetValue(streamId, out Http2ClientStream? s) && s.FinalHeadReceived;
        }

        var sink = new Http2ResponseSink(trailers);
        HpackError hpack = _decoder.Decode(_block.WrittenSpan, ref sink);
        _block.ResetWrittenCount();
        if (HpackErrors.IsFatal(hpack))
        {
            return HpackErrors.ToHttp2Error(hpack);
        }

        lock (_sync)
        {
            if (!_streams.TryGetValue(streamId, out Http2ClientStream? stream) || stream.RemoteEnded)
            {
                return stream is null ? Http2Error.None : Http2Error.Stream(Http2ErrorCode.StreamClosed, "HEADERS after END_STREAM");
            }

            if (hpack == HpackError.HeaderListTooLarge)
            {
                return Http2Error.Stream(Http2ErrorCode.ProtocolError, "response head above our header list limit");
            }

            if (sink.Error is not null)
            {
                return Http2Error.Stream(Http2ErrorCode.ProtocolError, sink.Error);
            }

            return trailers ? OnTrailersLocked(stream, sink) : OnResponseHeadLocked(stream, sink);
        }
    }

    private Http2Error OnResponseHeadLocked(Http2ClientStream stream, Http2ResponseSink sink)
    {
        if (sink.Status == 0)
        {
            return Http2Error.Stream(Http2ErrorCode.ProtocolError, "a response head without :status");
        }

        if (sink.Status < 200)
        {
            if (sink.Status == 101 || _blockEndStream)
            {
                return Http2Error.Stream(Http2ErrorCode.ProtocolError, "101, or an interim head ending the stream");
            }

            stream.InterimResponses++;
            return Http2Error.None;
        }

        var response = new Http2UpstreamResponse(sink.Status, sink.Fields);
        long? length = null;
        foreach (KeyValuePair<string, string> field in sink.Fields)
        {
            if (field.Key != "content-length")
            {
                continue;
            }

            if (!long.TryParse(field.Value, System.Globalization.NumberStyles.None, null, out long value) || (length is long l && l != value))
            {
                return Http2Error.Stream(Http2ErrorCode.ProtocolError, "an invalid or conflicting content-length");
            }

            length = value;
        }

        bool bodiless = stream.IsHeadRequest || sink.Status is 204 or 304;
        stream.ExpectedLength = bodiless ? 0 : length;
        if (_blockEndStream && stream.ExpectedLength is > 0)
        {
            return Http2Error.Stream(Http2ErrorCode.ProtocolError, "content-length above 0 on a response without DATA");
        }

        stream.Response = response;
        stream.FinalHeadReceived = true;
        if (_blockEndStream)
        {
            RemoteEndLocked(stream);
        }

        stream.SignalLocked();
        return Http2Error.None;
    }

    private Http2Error OnTrailersLocked(Http2ClientStream stream, Http2ResponseSink sink)
    {
        if (!_blockEndStream)
        {
            return Http2Error.Stream(Http2ErrorCode.ProtocolError, "a second HEADERS not ending the stream");
        }

        if (stream.ExpectedLength is long length && stream.ReceivedLength != length)
        {
            return Http2Error.Stream(Http2ErrorCode.ProtocolError, "less DATA than content-length");
        }

        stream.ResponseTrailers = new Http2UpstreamResponse(0, sink.Fields);
        RemoteEndLocked(stream);
        stream.SignalLocked();
        return Http2Error.None;
    }
}
