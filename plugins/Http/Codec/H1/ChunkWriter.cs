using System.Buffers;
using System.Buffers.Text;

namespace PluginProxy.Http.Codec.H1;

/// <summary>
/// Writes chunked transfer coding (RFC 9112 §7.1) around data whose length is known only as it comes: a body from an
/// HTTP/2 peer going to an HTTP/1.1 one. A chunk's size line can be written just before data already in a buffer (the
/// buffer keeps <see cref="Room"/> bytes free in front of it), so a chunk goes out in one write without a copy.
/// </summary>
internal static class ChunkWriter
{
    /// <summary>The most a chunk's size line takes (eight hex digits and CRLF), kept free in front of the data.</summary>
    public const int Room = 10;

    /// <summary>The bytes after a chunk's data.</summary>
    public static ReadOnlySpan<byte> End => "\r\n"u8;

    /// <summary>
    /// Frames <paramref name="length"/> bytes of data that start at <paramref name="buffer"/>[<see cref="Room"/>]: writes
    /// the size line before them and CRLF after them (the buffer needs 2 bytes free after the data), and returns where the
    /// chunk starts and how long it is.
    /// </summary>
    public static (int Start, int Length) Frame(Span<byte> buffer, int length)
    {
        int digits = length == 0 ? 1 : (35 - int.LeadingZeroCount(length)) / 4;
        int start = Room - digits - 2;
        Utf8Formatter.TryFormat(length, buffer.Slice(start, digits), out _, new StandardFormat('x'));
        End.CopyTo(buffer[(Room - 2)..]);
        End.CopyTo(buffer[(Room + length)..]);
        return (start, digits + 2 + length + 2);
    }

    /// <summary>Writes one chunk holding <paramref name="data"/>.</summary>
    public static void Write(OutputBuffer output, ReadOnlySpan<byte> data)
    {
        Span<byte> size = stackalloc byte[8];
        Utf8Formatter.TryFormat(data.Length, size, out int digits, new StandardFormat('x'));
        output.Write(size[..digits]);
        output.Write(End);
        output.Write(data);
        output.Write(End);
    }

    /// <summary>The end of a chunked body: the last chunk, the trailer fields if any, the empty line.</summary>
    public static void WriteLast(OutputBuffer output, IEnumerable<KeyValuePair<string, string>>? trailers)
    {
        output.Write("0\r\n"u8);
        foreach (KeyValuePair<string, string> field in trailers ?? [])
        {
            output.WriteLatin1(field.Key);
            output.Write(": "u8);
            output.WriteLatin1(field.Value);
            output.Write(End);
        }

        output.Write(End);
    }
}
