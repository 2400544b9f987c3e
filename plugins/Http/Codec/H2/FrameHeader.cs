using System.Buffers;
using System.Buffers.Binary;

namespace PluginProxy.Http.Codec.H2;

/// <summary>
/// The nine bytes that start every frame (RFC 9113 §4.1): a 24-bit payload length, the type, the flags, and a 31-bit
/// stream identifier whose reserved high bit is ignored when read and sent as zero.
/// </summary>
internal readonly struct FrameHeader
{
    /// <summary>The size of a frame header on the wire.</summary>
    public const int Size = 9;

    /// <summary>The largest payload length a frame header can carry (2^24-1).</summary>
    public const int MaxLength = 0xFFFFFF;

    /// <param name="length">The payload length, 0 to 2^24-1.</param>
    /// <param name="type">The frame type (any byte: unknown types are kept).</param>
    /// <param name="flags">The flags byte.</param>
    /// <param name="streamId">The stream identifier, 0 to 2^31-1.</param>
    public FrameHeader(int length, Http2FrameType type, Http2FrameFlags flags, int streamId)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, MaxLength);
        ArgumentOutOfRangeException.ThrowIfNegative(streamId);
        Length = length;
        Type = type;
        Flags = flags;
        StreamId = streamId;
    }

    /// <summary>The payload length in bytes (the header's nine bytes not included).</summary>
    public int Length { get; }

    /// <summary>The frame type.</summary>
    public Http2FrameType Type { get; }

    /// <summary>The flags, as received.</summary>
    public Http2FrameFlags Flags { get; }

    /// <summary>The stream identifier, reserved bit cleared; 0 is the connection.</summary>
    public int StreamId { get; }

    /// <summary>True when <paramref name="flag"/> is set.</summary>
    public bool HasFlag(Http2FrameFlags flag) => (Flags & flag) != 0;

    /// <summary>Reads a frame header from the first nine bytes of <paramref name="source"/>.</summary>
    /// <returns>False when fewer than nine bytes are available.</returns>
    public static bool TryRead(ReadOnlySpan<byte> source, out FrameHeader header)
    {
        if (source.Length < Size)
        {
            header = default;
            return false;
        }

        int length = (source[0] << 16) | (source[1] << 8) | source[2];
        int streamId = (int)(BinaryPrimitives.ReadUInt32BigEndian(source[5..]) & 0x7FFFFFFF);
        header = new FrameHeader(length, (Http2FrameType)source[3], (Http2FrameFlags)source[4], streamId);
        return true;
    }

    /// <summary>Reads a frame header from the start of <paramref name="source"/>, which may span several segments.</summary>
    /// <returns>False when fewer than nine bytes are available.</returns>
    public static bool TryRead(in ReadOnlySequence<byte> source, out FrameHeader header)
    {
        if (source.FirstSpan.Length >= Size)
        {
            return TryRead(source.FirstSpan, out header);
        }

        if (source.Length < Size)
        {
            header = default;
            return false;
        }

        Span<byte> bytes = stackalloc byte[Size];
        source.Slice(0, Size).CopyTo(bytes);
        return TryRead(bytes, out header);
    }

    /// <summary>Writes the nine header bytes to the start of <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException">The destination is shorter than nine bytes.</exception>
    public void Write(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            throw new ArgumentException("A frame header needs 9 bytes.", nameof(destination));
        }

        destination[0] = (byte)(Length >> 16);
        destination[1] = (byte)(Length >> 8);
        destination[2] = (byte)Length;
        destination[3] = (byte)Type;
        destination[4] = (byte)Flags;
        BinaryPrimitives.WriteUInt32BigEndian(destination[5..], (uint)StreamId);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Type} length={Length} flags=0x{(byte)Flags:x2} stream={StreamId}";
}
