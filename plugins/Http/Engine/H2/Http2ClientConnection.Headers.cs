using System.Buffers;
using PluginProxy.Http.Codec.H2;

namespace PluginProxy.Http.Engine.H2;

/// <summary>
/// The reader loop's handling of field blocks: HEADERS and CONTINUATION joined into one block (bounded in bytes and
/// frames), decoded with HPACK, and turned into a new stream, trailers, or a stream error.
/// </summary>
internal sealed partial class Http2ClientConnection
{
    // The block being assembled while CONTINUATION frames are expected (_blockStream != 0), rented only meanwhile.
    private byte[]? _block;
    private int _blockLength;
    private int _blockStream;
    private int _blockFrames;
    private bool _blockEndStream;
    private Http2Error _blockError;

    private Http2Error OnHeaders(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        Http2Error error = FramePayloads.ReadHeaders(header, payload, out HeadersPayload headers);
        if (error.Scope == Http2ErrorScope.Connection)
        {
            return error;
        }

        ReadOnlySpan<byte> fragment = payload[headers.Fragment];
        bool endStream = header.HasFlag(Http2FrameFlags.EndStream);
        if (header.HasFlag(Http2FrameFlags.EndHeaders))
        {
            return OnBlock(header.StreamId, fragment, endStream, error);
        }

        if (fragment.Length > _limits.MaxHeaderBlockSize)
        {
            return Http2Error.Connection(Http2ErrorCode.EnhanceYourCalm, "header block larger than the limit");
        }

        _block = ArrayPool<byte>.Shared.Rent(Math.Max(fragment.Length * 2, 4096));
        fragment.CopyTo(_block);
        _blockLength = fragment.Length;
        _blockStream = header.StreamId;
        _blockFrames = 0;
        _blockEndStream = endStream;
        _blockError = error;
        return Http2Error.None;
    }

    private Http2Error OnContinuation(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        Http2Error error = FramePayloads.ReadContinuation(header, payload, out Range range);
        if (error.IsError)
        {
            return error;
        }

        if (_blockStream == 0)
        {
            return Http2Error.Connection(Http2ErrorCode.ProtocolError, "CONTINUATION without HEADERS");
        }

        ReadOnlySpan<byte> fragment = payload[range];
        if (++_blockFrames > _limits.MaxContinuationFrames)
        {
            return Http2Error.Connection(Http2ErrorCode.EnhanceYourCalm, "too many CONTINUATION frames");
        }

        if (fragment.Length > _limits.MaxHeaderBlockSize - _blockLength)
        {
            return Http2Error.Connection(Http2ErrorCode.EnhanceYourCalm, "header block larger than the limit");
        }

        if (_blockLength + fragment.Length > _block!.Length)
        {
            byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Min(_limits.MaxHeaderBlockSize, Math.Max(_block.Length * 2, _blockLength + fragment.Length)));
            _block.AsSpan(0, _blockLength).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_block);
            _block = larger;
        }

        fragment.CopyTo(_block.AsSpan(_blockLength));
        _blockLength += fragment.Length;
        if (!header.HasFlag(Http2FrameFlags.EndHeaders))
        {
            return Http2Error.None;
        }

        byte[] block = _block;
        int streamId = _blockStream;
        _block = null;
        _blockStream = 0;
        try
        {
            return OnBlock(streamId, block.AsSpan(0, _blockLength), _blockEndStream, _blockError);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(block);
        }
    }

    /// <summary>A complete field block on <paramref name="streamId"/>; <paramref name="frameError"/> is a stream error of its HEADERS frame.</summary>
    private Http2Error OnBlock(int streamId, ReadOnlySpan<byte> block, bool endStream, Http2Error frameError)
    {
        Http2ServerStream? stream;
        lock (_sync)
        {
            _streams.TryGetValue(streamId, out stream);
        }

        if (stream is not null)
        {
            return OnTrailers(stream, block, endStream, frameError);
        }

        if (!IsIdle(streamId))
        {
            // A closed stream: decode to keep HPACK in step; ignore it when we reset the stream, STREAM_CLOSED when it
            // closed recently, else the client went back to a lower stream id than one it opened (PROTOCOL_ERROR, §5.1.1).
            Http2Error decoded = Decode(block, trailers: true, out _);
            if (decoded.IsError || WasResetByUs(streamId))
            {
                return decoded;
            }

            return Array.IndexOf(_closed, streamId) >= 0
                ? Http2Error.Connection(Http2ErrorCode.StreamClosed, "HEADERS on a closed stream")
                : Http2Error.Connection(Http2ErrorCode.ProtocolError, "stream id lower than one already opened");
        }

        if ((streamId & 1) == 0)
        {
            return Http2Error.Connection(Http2ErrorCode.ProtocolError, "stream id opened by a client is even");
        }

        lock (_sync)
        {
            _lastStreamId = streamId;
        }

        Http2Error error = Decode(block, trailers: false, out HpackError hpack);
        if (error.IsError)
        {
            return error;
        }

        lock (_sync)
        {
            if (streamId > _goAwayLastId)
            {
                return Http2Error.None;
            }

            if (frameError.IsError)
            {
                return RefuseLocked(streamId, frameError.Code);
            }

            if (_streams.Count >= _limits.MaxConcurrentStreams)
            {
                return RefuseLocked(streamId, Http2ErrorCode.RefusedStream);
            }

            bool tooLarge = hpack == HpackError.HeaderListTooLarge;
            if (!tooLarge && _head.CheckRequest(endStream) is not null)
            {
                return RefuseLocked(streamId, Http2ErrorCode.ProtocolError);
            }

            Http2Message message = RentMessageLocked();
            stream = message.Stream?.Reuse(streamId) ?? (message.Stream = new Http2ServerStream(this, streamId, Math.Max(_limits.StreamWindow, 65535), message));
            stream.State = endStream ? Http2StreamState.HalfClosedRemote : Http2StreamState.Open;
            stream.EndReceived = endStream;
            stream.ReceiveWindow = _settingsAcked ? _limits.StreamWindow : Math.Max(_limits.StreamWindow, 65535);
            stream.SendWindow = _peerInitialWindow;
            stream.HeadTooLarge = tooLarge;
            if (!tooLarge)
            {
                _head.LoadRequest(stream.Request, endStream, ref stream.Message.Head);
            }

            _streams.Add(streamId, stream);
            _deadlines.StopIdle();
        }

        StartHandler(stream);
        return Http2Error.None;
    }

    private Http2Error OnTrailers(Http2ServerStream stream, ReadOnlySpan<byte> block, bool endStream, Http2Error frameError)
    {
        Http2Error error = Decode(block, trailers: true, out HpackError hpack);
        if (error.IsError)
        {
            return error;
        }

        lock (_sync)
        {
            if (stream.State is Http2StreamState.HalfClosedRemote or Http2StreamState.Closed)
            {
                StreamErrorLocked(stream.Id, stream, Http2ErrorCode.StreamClosed);
                return Http2Error.None;
            }

            if (frameError.IsError || !endStream || hpack != HpackError.None || _head.Error is not null
                || (stream.Request.ContentLength is long length && length != stream.DataReceived))
            {
                StreamErrorLocked(stream.Id, stream, frameError.IsError ? frameError.Code : Http2ErrorCode.ProtocolError);
                return Http2Error.None;
            }

            stream.RequestTrailers = _head.LoadTrailers();
            EndReceivedLocked(stream);
        }

        return Http2Error.None;
    }

    private void ReturnBlock()
    {
        if (_block is not null)
        {
            ArrayPool<byte>.Shared.Return(_block);
            _block = null;
        }
    }

    /// <summary>Decodes a block into the head builder; a fatal HPACK error is a connection COMPRESSION_ERROR.</summary>
    private Http2Error Decode(ReadOnlySpan<byte> block, bool trailers, out HpackError result)
    {
        _head.Begin(trailers);
        var sink = new Http2HeadSink(_head);
        result = _decoder.Decode(block, ref sink);
        return HpackErrors.ToHttp2Error(result);
    }

    /// <summary>Refuses a new stream with RST_STREAM; too many refusals are a flood (the caller holds the lock).</summary>
    private Http2Error RefuseLocked(int streamId, Http2ErrorCode code)
    {
        StreamErrorLocked(streamId, null, code);
        return _refusedStreams.Add()
            ? Http2Error.Connection(Http2ErrorCode.EnhanceYourCalm, "too many refused streams")
            : Http2Error.None;
    }
}
