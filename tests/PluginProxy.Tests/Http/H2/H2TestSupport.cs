using System.Buffers;
using System.Text;
using PluginProxy.Http.Codec.H2;

namespace PluginProxy.Tests.Http.H2;

/// <summary>Hex dumps as in the RFCs, a sink that records fields, and multi-segment sequences.</summary>
internal static class H2TestSupport
{
    public static byte[] Hex(string dump) => Convert.FromHexString(string.Concat(dump.Where(Uri.IsHexDigit)));

    public static string ToHex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    public static byte[] Ascii(string text) => Encoding.Latin1.GetBytes(text);

    /// <summary>Decodes <paramref name="block"/> and returns the error and the fields the sink received.</summary>
    public static (HpackError Error, List<(string Name, string Value, bool NeverIndexed)> Fields) Decode(HpackDecoder decoder, byte[] block)
    {
        var sink = new ListSink();
        HpackError error = decoder.Decode(block, ref sink);
        return (error, sink.Fields);
    }

    /// <summary>The dynamic table, newest first, as (name, value) strings.</summary>
    public static List<(string Name, string Value)> Entries(HpackDynamicTable table)
    {
        var entries = new List<(string, string)>();
        for (int i = 0; i < table.Count; i++)
        {
            entries.Add((Encoding.Latin1.GetString(table.Name(i)), Encoding.Latin1.GetString(table.Value(i))));
        }

        return entries;
    }

    /// <summary>A sequence made of the given pieces, one segment each.</summary>
    public static ReadOnlySequence<byte> Segmented(params byte[][] pieces)
    {
        var first = new Segment(pieces[0], 0);
        Segment last = first;
        foreach (byte[] piece in pieces.Skip(1))
        {
            last = last.Append(piece);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] bytes, long runningIndex)
        {
            Memory = bytes;
            RunningIndex = runningIndex;
        }

        public Segment Append(byte[] bytes)
        {
            var next = new Segment(bytes, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}

/// <summary>Records every field as strings (the tests' sink; the decoder itself allocates nothing per field).</summary>
internal struct ListSink : IHpackSink
{
    public ListSink()
    {
    }

    public List<(string Name, string Value, bool NeverIndexed)> Fields { get; } = [];

    public readonly void OnField(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed)
        => Fields.Add((Encoding.Latin1.GetString(name), Encoding.Latin1.GetString(value), neverIndexed));
}

/// <summary>A sink that only counts, for the allocation test.</summary>
internal struct CountingSink : IHpackSink
{
    public int Count;
    public long Bytes;

    public void OnField(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed)
    {
        Count++;
        Bytes += name.Length + value.Length;
    }
}
