using System.Buffers.Binary;

namespace PluginProxy.Http.Codec.H2;

/// <summary>
/// Checks and reads each frame type's payload (RFC 9113 §4.2, §6). Every method takes the frame header and the whole
/// payload (exactly <see cref="FrameHeader.Length"/> bytes) and returns <see cref="Http2Error.None"/> with the typed
/// result, or the error the RFC prescribes: its scope (stream or connection) and code. Nothing is allocated.
/// What needs connection state (stream states, CONTINUATION sequencing, flow-control windows, a server receiving
/// PUSH_PROMISE) is left to the caller.
/// </summary>
internal static class FramePayloads
{
    /// <summary>
    /// Checks a frame's length against the SETTINGS_MAX_FRAME_SIZE we advertised (§4.2): a larger frame is a
    /// FRAME_SIZE_ERROR, of the connection for frames that can change its state (a field block, SETTINGS, anything on
    /// stream 0), else of the stream. Call before reading the payload.
    /// </summary>
    public static Http2Error CheckLength(in FrameHeader header, int maxFrameSize)
    {
        if (header.Length <= maxFrameSize)
        {
            return Http2Error.None;
        }

        bool connection = header.StreamId == 0 || header.Type is Http2FrameType.Headers or Http2FrameType.PushPromise
            or Http2FrameType.Continuation or Http2FrameType.Settings;
        return connection
            ? Http2Error.Connection(Http2ErrorCode.FrameSizeError, "frame larger than SETTINGS_MAX_FRAME_SIZE")
            : Http2Error.Stream(Http2ErrorCode.FrameSizeError, "frame larger than SETTINGS_MAX_FRAME_SIZE");
    }

    /// <summary>DATA (§6.1): never on stream 0; padding must leave room for itself.</summary>
    public static Http2Error ReadData(in FrameHeader header, ReadOnlySpan<byte> payload, out DataPayload data)
    {
        CheckPayload(header, payload);
        data = default;
        if (header.StreamId == 0)
        {
            return Http2Error.Connection(Http2ErrorCode.ProtocolError, "DATA on stream 0");
        }

        Http2Error error = Unpad(header, payload, 0, out int start, out int end);
        if (!error.IsError)
        {
            data = new DataPayload(start..end, payload.Length - end);
        }

        return error;
    }

    /// <summary>
    /// HEADERS (§6.2): never on stream 0; padding and, with the PRIORITY flag, five bytes of priority fields precede the
    /// fragment. A stream depending on itself is a stream PROTOCOL_ERROR (§5.3.1); <paramref name="headers"/> is filled
    /// even then, since the field block must still be decoded to keep the HPACK state in step.
    /// </summary>
    public static Http2Error ReadHeaders(in FrameHeader header, ReadOnlySpan<byte> payload, out HeadersPayload headers)
    {
        CheckPayload(header, payload);
        headers = default;
        if (header.StreamId == 0)
        {
            return Http2Error.Connection(Http2ErrorCode.ProtocolError, "HEADERS on stream 0");
        }

        bool hasPriority = header.HasFlag(Http2FrameFlags.Priority);
        Http2Error error = Unpad(header, payload, hasPriority ? 5 : 0, out int start, out int end);
        if (error.IsError)
        {
            return error;
        }

        PriorityPayload priority = default;
        if (hasPriority)
        {
            priority = ReadPriorityFields(payload.Slice(start, 5));
            start += 5;
        }

        headers = new HeadersPayload(start..end, hasPriority, priority);
        return hasPriority && priority.StreamDependency == header.StreamId
            ? Http2Error.Stream(Http2ErrorCode.ProtocolError, "stream depends on itself")
            : Http2Error.None;
    }

    /// <summary>PRIORITY (§6.3): never on stream 0; exactly five bytes, else a stream FRAME_SIZE_ERROR.</summary>
    public static Http2Error ReadPriority(in FrameHeader header, ReadOnlySpan<byte> payload, out PriorityPayload priority)
    {
        CheckPayload(header, payload);
        priority = default;
        if (header.StreamId == 0)
        {
            return Http2Error.Connection(Http2ErrorCode.ProtocolError, "PRIORITY on stream 0");
        }

        if (payload.Length != 5)
        {
            return Http2Error.Stream(Http2ErrorCode.FrameSizeError, "PRIORITY length is not 5");
        }

        priority = ReadPriorityFields(payload);
        return priority.StreamDependency == header.StreamId
            ? Http2Error.Stream(Http2ErrorCode.ProtocolError, "stream depends on itself")
            : Http2Error.None;
    }

    /// <summary>RST_STREAM (§6.4): never on stream 0; exactly four bytes.</summary>
    public static Http2Error ReadRstStream(in FrameHeader header, ReadOnlySpan<byte> payload, out Http2ErrorCode code)
    {
        CheckPayload(header, payload);
        code = Http2ErrorCode.NoError;
        if (header.StreamId == 0)
        {
            return Http2Error.Connection(Http2ErrorCode.ProtocolError, "RST_STREAM on stream 0");
        }

        if (payload.Length != 4)
        {
            return Http2Error.Connection(Http2ErrorCode.FrameSizeError, "RST_STREAM length is not 4");
        }

        code = (Http2ErrorCode)BinaryPrimitives.ReadUInt32BigEndian(payload);
        return Http2Error.None;
    }

    /// <summary>
    /// SETTINGS framing (§6.5): only on stream 0; an ACK is empty; otherwise a multiple of six bytes. The values are
    /// checked and applied by <see cref="Http2Settings.Apply"/>.
    /// </summary>
    public static Http2Error CheckSettings(in FrameHeader header)
    {
        if (header.StreamId != 0)
        {
            return Http2Error.Connection(Http2ErrorCode.ProtocolError, "SETTINGS on a stream");
        }

        if (header.HasFlag(Http2FrameFlags.Ack))
        {
            return header.Length == 0
                ? Http2Error.None
                : Http2Error.Connection(Http2ErrorCode.FrameSizeError, "SETTINGS ACK with a payload");
        }

        return header.Length % 6 == 0
            ? Http2Error.None
            : Http2Error.Connection(Http2ErrorCode.FrameSizeError, "SETTINGS length is not a multiple of 6");
    }

    /// <summary>PUSH_PROMISE (§6.6): never on stream 0; padding, then a four-byte promised stream id and the fragment.</summary>
    public static Http2Error ReadPushPromise(in FrameHeader header, ReadOnlySpan<byte> payload, out PushPromisePayload promise)
    {
        CheckPayload(header, payload);
        promise = default;
        if (header.StreamId == 0)
        {
            return Http2Error.Connection(Http2ErrorCode.ProtocolError, "PUSH_PROMISE on stream 0");
        }

        Http2Error error = Unpad(header, payload, 4, out int start, out int end);
        if (!error.IsError)
        {
            int promised = (int)(BinaryPrimitives.ReadUInt32BigEndian(payload[start..]) & 0x7FFFFFFF);
            promise = new PushPromisePayload(promised, (start + 4)..end);
        }

        return error;
    }

    /// <summary>PING (§6.7): only on stream 0; exactly eight bytes, read as one big-endian number.</summary>
    public static Http2Error ReadPing(in FrameHeader header, ReadOnlySpan<byte> payload, out ulong opaqueData)
    {
        CheckPayload(header, payload);
        opaqueData = 0;
        if (header.StreamId != 0)
        {
            return Http2Error.Connection(Http2ErrorCode.ProtocolError, "PING on a stream");
        }

        if (payload.Length != 8)
        {
            return Http2Error.Connection(Http2ErrorCode.FrameSizeError, "PING length is not 8");
        }

        opaqueData = BinaryPrimitives.ReadUInt64BigEndian(payload);
        return Http2Error.None;
    }

    /// <summary>GOAWAY (§6.8): only on stream 0; at least eight bytes (last stream id, error code), then debug data.</summary>
    public static Http2Error ReadGoAway(in FrameHeader header, ReadOnlySpan<byte> payload, out GoAwayPayload goAway)
    {
        CheckPayload(header, payload);
        goAway = default;
        if (header.StreamId != 0)
        {
            return Http2Error.Connection(Http2ErrorCode.ProtocolError, "GOAWAY on a stream");
        }

        if (payload.Length < 8)
        {
            return Http2Error.Connection(Http2ErrorCode.FrameSizeError, "GOAWAY shorter than 8 bytes");
        }

        int lastStreamId = (int)(BinaryPrimitives.ReadUInt32BigEndian(payload) & 0x7FFFFFFF);
        var code = (Http2ErrorCode)BinaryPrimitives.ReadUInt32BigEndian(payload[4..]);
        goAway = new GoAwayPayload(lastStreamId, code, 8..payload.Length);
        return Http2Error.None;
    }

    /// <summary>
    /// WINDOW_UPDATE (§6.9): exactly four bytes (else a connection FRAME_SIZE_ERROR); an increment of 0 is a
    /// PROTOCOL_ERROR of the stream, or of the connection on stream 0.
    /// </summary>
    public static Http2Error ReadWindowUpdate(in FrameHeader header, ReadOnlySpan<byte> payload, out int increment)
    {
        CheckPayload(header, payload);
        increment = 0;
        if (payload.Length != 4)
        {
            return Http2Error.Connection(Http2ErrorCode.FrameSizeError, "WINDOW_UPDATE length is not 4");
        }

        increment = (int)(BinaryPrimitives.ReadUInt32BigEndian(payload) & 0x7FFFFFFF);
        if (increment != 0)
        {
            return Http2Error.None;
        }

        return header.StreamId == 0
            ? Http2Error.Connection(Http2ErrorCode.ProtocolError, "WINDOW_UPDATE increment of 0")
            : Http2Error.Stream(Http2ErrorCode.ProtocolError, "WINDOW_UPDATE increment of 0");
    }

    /// <summary>
    /// CONTINUATION (§6.10): never on stream 0; the whole payload is the fragment. That it follows a HEADERS,
    /// PUSH_PROMISE or CONTINUATION without END_HEADERS on the same stream is the caller's check.
    /// </summary>
    public static Http2Error ReadContinuation(in FrameHeader header, ReadOnlySpan<byte> payload, out Range fragment)
    {
        CheckPayload(header, payload);
        fragment = default;
        if (header.StreamId == 0)
        {
            return Http2Error.Connection(Http2ErrorCode.ProtocolError, "CONTINUATION on stream 0");
        }

        fragment = 0..payload.Length;
        return Http2Error.None;
    }

    /// <summary>
    /// Finds the content between the pad length byte (when PADDED) plus <paramref name="fixedFields"/> and the padding.
    /// Too short for the mandatory fields: connection FRAME_SIZE_ERROR; padding longer than what is left: connection
    /// PROTOCOL_ERROR (§6.1, §6.2, §6.6).
    /// </summary>
    private static Http2Error Unpad(in FrameHeader header, ReadOnlySpan<byte> payload, int fixedFields, out int start, out int end)
    {
        start = 0;
        end = payload.Length;
        int padLength = 0;
        if (header.HasFlag(Http2FrameFlags.Padded))
        {
            if (payload.Length < 1 + fixedFields)
            {
                return Http2Error.Connection(Http2ErrorCode.FrameSizeError, "frame too short for its pad length and fields");
            }

            padLength = payload[0];
            start = 1;
        }
        else if (payload.Length < fixedFields)
        {
            return Http2Error.Connection(Http2ErrorCode.FrameSizeError, "frame too short for its fields");
        }

        if (padLength > payload.Length - start - fixedFields)
        {
            return Http2Error.Connection(Http2ErrorCode.ProtocolError, "padding as long as the payload or longer");
        }

        end = payload.Length - padLength;
        return Http2Error.None;
    }

    private static PriorityPayload ReadPriorityFields(ReadOnlySpan<byte> fields)
    {
        uint dependency = BinaryPrimitives.ReadUInt32BigEndian(fields);
        return new PriorityPayload((int)(dependency & 0x7FFFFFFF), (dependency & 0x80000000) != 0, fields[4]);
    }

    private static void CheckPayload(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (payload.Length != header.Length)
        {
            throw new ArgumentException($"The payload has {payload.Length} bytes; the frame header says {header.Length}.", nameof(payload));
        }
    }
}
