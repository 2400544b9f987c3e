using System.Buffers;
using System.Buffers.Binary;

namespace PluginProxy.Http.Codec.H2;

/// <summary>
/// Writes complete frames (RFC 9113 §6) into a span or an <see cref="IBufferWriter{T}"/>. The span methods return the
/// bytes written and throw when the destination is too small (size it with the <c>…Size</c> methods); arguments that
/// would make an invalid frame (a DATA frame on stream 0, an increment of 0) throw as well, since they are bugs of the caller.
/// </summary>
internal static class FrameWriter
{
    /// <summary>The size of a SETTINGS ACK frame.</summary>
    public const int SettingsAckSize = FrameHeader.Size;

    /// <summary>The size of a PING frame.</summary>
    public const int PingSize = FrameHeader.Size + 8;

    /// <summary>The size of a RST_STREAM frame.</summary>
    public const int RstStreamSize = FrameHeader.Size + 4;

    /// <summary>The size of a WINDOW_UPDATE frame.</summary>
    public const int WindowUpdateSize = FrameHeader.Size + 4;

    /// <summary>The size of a SETTINGS frame with <paramref name="count"/> settings.</summary>
    public static int SettingsSize(int count) => FrameHeader.Size + (6 * count);

    /// <summary>The size of a GOAWAY frame with <paramref name="debugLength"/> bytes of debug data.</summary>
    public static int GoAwaySize(int debugLength) => FrameHeader.Size + 8 + debugLength;

    /// <summary>The size of a DATA frame carrying <paramref name="length"/> bytes.</summary>
    public static int DataSize(int length) => FrameHeader.Size + length;

    /// <summary>The size of the HEADERS and CONTINUATION frames carrying a field block of <paramref name="blockLength"/> bytes.</summary>
    public static int HeadersSize(int blockLength, int maxFrameSize)
    {
        CheckMaxFrameSize(maxFrameSize);
        int frames = blockLength == 0 ? 1 : ((blockLength - 1) / maxFrameSize) + 1;
        return blockLength + (frames * FrameHeader.Size);
    }

    /// <summary>A SETTINGS frame with <paramref name="settings"/>, in order.</summary>
    public static int WriteSettings(Span<byte> destination, ReadOnlySpan<Http2Setting> settings)
    {
        int size = SettingsSize(settings.Length);
        Span<byte> frame = Take(destination, size);
        new FrameHeader(size - FrameHeader.Size, Http2FrameType.Settings, Http2FrameFlags.None, 0).Write(frame);
        int offset = FrameHeader.Size;
        foreach (Http2Setting setting in settings)
        {
            BinaryPrimitives.WriteUInt16BigEndian(frame[offset..], (ushort)setting.Id);
            BinaryPrimitives.WriteUInt32BigEndian(frame[(offset + 2)..], setting.Value);
            offset += 6;
        }

        return size;
    }

    /// <summary>An empty SETTINGS frame with ACK.</summary>
    public static int WriteSettingsAck(Span<byte> destination)
    {
        new FrameHeader(0, Http2FrameType.Settings, Http2FrameFlags.Ack, 0).Write(Take(destination, SettingsAckSize));
        return SettingsAckSize;
    }

    /// <summary>A PING frame, with ACK when it answers the peer's PING (same <paramref name="opaqueData"/>).</summary>
    public static int WritePing(Span<byte> destination, ulong opaqueData, bool ack)
    {
        Span<byte> frame = Take(destination, PingSize);
        new FrameHeader(8, Http2FrameType.Ping, ack ? Http2FrameFlags.Ack : Http2FrameFlags.None, 0).Write(frame);
        BinaryPrimitives.WriteUInt64BigEndian(frame[FrameHeader.Size..], opaqueData);
        return PingSize;
    }

    /// <summary>A GOAWAY frame: the last stream processed, why, and optional debug data.</summary>
    public static int WriteGoAway(Span<byte> destination, int lastStreamId, Http2ErrorCode code, ReadOnlySpan<byte> debugData = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(lastStreamId);
        int size = GoAwaySize(debugData.Length);
        Span<byte> frame = Take(destination, size);
        new FrameHeader(size - FrameHeader.Size, Http2FrameType.GoAway, Http2FrameFlags.None, 0).Write(frame);
        BinaryPrimitives.WriteUInt32BigEndian(frame[FrameHeader.Size..], (uint)lastStreamId);
        BinaryPrimitives.WriteUInt32BigEndian(frame[(FrameHeader.Size + 4)..], (uint)code);
        debugData.CopyTo(frame[(FrameHeader.Size + 8)..]);
        return size;
    }

    /// <summary>A RST_STREAM frame ending <paramref name="streamId"/> with <paramref name="code"/>.</summary>
    public static int WriteRstStream(Span<byte> destination, int streamId, Http2ErrorCode code)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(streamId);
        Span<byte> frame = Take(destination, RstStreamSize);
        new FrameHeader(4, Http2FrameType.RstStream, Http2FrameFlags.None, streamId).Write(frame);
        BinaryPrimitives.WriteUInt32BigEndian(frame[FrameHeader.Size..], (uint)code);
        return RstStreamSize;
    }

    /// <summary>A WINDOW_UPDATE frame for a stream, or for the connection on stream 0; the increment is 1 to 2^31-1.</summary>
    public static int WriteWindowUpdate(Span<byte> destination, int streamId, int increment)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(streamId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(increment);
        Span<byte> frame = Take(destination, WindowUpdateSize);
        new FrameHeader(4, Http2FrameType.WindowUpdate, Http2FrameFlags.None, streamId).Write(frame);
        BinaryPrimitives.WriteUInt32BigEndian(frame[FrameHeader.Size..], (uint)increment);
        return WindowUpdateSize;
    }

    /// <summary>The header of a DATA frame whose <paramref name="length"/> bytes the caller sends next (no copy of the data).</summary>
    public static int WriteDataHeader(Span<byte> destination, int streamId, int length, bool endStream)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(streamId);
        var flags = endStream ? Http2FrameFlags.EndStream : Http2FrameFlags.None;
        new FrameHeader(length, Http2FrameType.Data, flags, streamId).Write(Take(destination, FrameHeader.Size));
        return FrameHeader.Size;
    }

    /// <summary>A DATA frame (no padding); the caller keeps <paramref name="data"/> within the peer's SETTINGS_MAX_FRAME_SIZE.</summary>
    public static int WriteData(Span<byte> destination, int streamId, ReadOnlySpan<byte> data, bool endStream)
    {
        int size = DataSize(data.Length);
        Span<byte> frame = Take(destination, size);
        WriteDataHeader(frame, streamId, data.Length, endStream);
        data.CopyTo(frame[FrameHeader.Size..]);
        return size;
    }

    /// <summary>
    /// A field block as one HEADERS frame followed by as many CONTINUATION frames as <paramref name="maxFrameSize"/>
    /// (the peer's SETTINGS_MAX_FRAME_SIZE) requires: END_STREAM on the HEADERS frame when <paramref name="endStream"/>,
    /// END_HEADERS on the last frame.
    /// </summary>
    public static int WriteHeaders(Span<byte> destination, int streamId, ReadOnlySpan<byte> fieldBlock, bool endStream, int maxFrameSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(streamId);
        int size = HeadersSize(fieldBlock.Length, maxFrameSize);
        Span<byte> frames = Take(destination, size);
        int offset = 0;
        var type = Http2FrameType.Headers;
        var flags = endStream ? Http2FrameFlags.EndStream : Http2FrameFlags.None;
        do
        {
            int length = Math.Min(maxFrameSize, fieldBlock.Length);
            if (length == fieldBlock.Length)
            {
                flags |= Http2FrameFlags.EndHeaders;
            }

            new FrameHeader(length, type, flags, streamId).Write(frames[offset..]);
            fieldBlock[..length].CopyTo(frames[(offset + FrameHeader.Size)..]);
            offset += FrameHeader.Size + length;
            fieldBlock = fieldBlock[length..];
            type = Http2FrameType.Continuation;
            flags = Http2FrameFlags.None;
        }
        while (!fieldBlock.IsEmpty);

        return offset;
    }

    /// <inheritdoc cref="WriteSettings(Span{byte}, ReadOnlySpan{Http2Setting})"/>
    public static void WriteSettings(IBufferWriter<byte> writer, ReadOnlySpan<Http2Setting> settings)
        => writer.Advance(WriteSettings(writer.GetSpan(SettingsSize(settings.Length)), settings));

    /// <inheritdoc cref="WriteSettingsAck(Span{byte})"/>
    public static void WriteSettingsAck(IBufferWriter<byte> writer) => writer.Advance(WriteSettingsAck(writer.GetSpan(SettingsAckSize)));

    /// <inheritdoc cref="WritePing(Span{byte}, ulong, bool)"/>
    public static void WritePing(IBufferWriter<byte> writer, ulong opaqueData, bool ack)
        => writer.Advance(WritePing(writer.GetSpan(PingSize), opaqueData, ack));

    /// <inheritdoc cref="WriteGoAway(Span{byte}, int, Http2ErrorCode, ReadOnlySpan{byte})"/>
    public static void WriteGoAway(IBufferWriter<byte> writer, int lastStreamId, Http2ErrorCode code, ReadOnlySpan<byte> debugData = default)
        => writer.Advance(WriteGoAway(writer.GetSpan(GoAwaySize(debugData.Length)), lastStreamId, code, debugData));

    /// <inheritdoc cref="WriteRstStream(Span{byte}, int, Http2ErrorCode)"/>
    public static void WriteRstStream(IBufferWriter<byte> writer, int streamId, Http2ErrorCode code)
        => writer.Advance(WriteRstStream(writer.GetSpan(RstStreamSize), streamId, code));

    /// <inheritdoc cref="WriteWindowUpdate(Span{byte}, int, int)"/>
    public static void WriteWindowUpdate(IBufferWriter<byte> writer, int streamId, int increment)
        => writer.Advance(WriteWindowUpdate(writer.GetSpan(WindowUpdateSize), streamId, increment));

    /// <inheritdoc cref="WriteData(Span{byte}, int, ReadOnlySpan{byte}, bool)"/>
    public static void WriteData(IBufferWriter<byte> writer, int streamId, ReadOnlySpan<byte> data, bool endStream)
        => writer.Advance(WriteData(writer.GetSpan(DataSize(data.Length)), streamId, data, endStream));

    /// <inheritdoc cref="WriteHeaders(Span{byte}, int, ReadOnlySpan{byte}, bool, int)"/>
    public static void WriteHeaders(IBufferWriter<byte> writer, int streamId, ReadOnlySpan<byte> fieldBlock, bool endStream, int maxFrameSize)
        => writer.Advance(WriteHeaders(writer.GetSpan(HeadersSize(fieldBlock.Length, maxFrameSize)), streamId, fieldBlock, endStream, maxFrameSize));

    private static Span<byte> Take(Span<byte> destination, int size)
    {
        if (destination.Length < size)
        {
            throw new ArgumentException($"The frame needs {size} bytes; the destination has {destination.Length}.", nameof(destination));
        }

        return destination[..size];
    }

    private static void CheckMaxFrameSize(int maxFrameSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxFrameSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxFrameSize, FrameHeader.MaxLength);
    }
}
