namespace PluginProxy.Http.Codec.H2;

/// <summary>
/// The string literal representation of RFC 7541 §5.2: an H bit (Huffman-coded or not), the length as a 7-bit-prefix
/// integer, then the bytes.
/// </summary>
internal static class HpackString
{
    /// <summary>The most bytes a string of <paramref name="length"/> bytes takes when encoded (Huffman is used only when not longer).</summary>
    public static int MaxEncodedLength(int length) => HpackInteger.MaxLength + length;

    /// <summary>
    /// Reads a string literal's H bit and length at the start of <paramref name="source"/>, and checks that the bytes are
    /// all there: <paramref name="consumed"/> covers the length prefix, the bytes follow it.
    /// </summary>
    public static HpackError ReadPrefix(ReadOnlySpan<byte> source, out bool huffman, out int length, out int consumed)
    {
        huffman = !source.IsEmpty && (source[0] & 0x80) != 0;
        HpackError error = HpackInteger.Decode(source, 7, out length, out consumed);
        if (error == HpackError.None && length > source.Length - consumed)
        {
            error = HpackError.Truncated;
        }

        return error;
    }

    /// <summary>Writes <paramref name="value"/> as a string literal, Huffman-coded when <paramref name="huffman"/> allows and it is not longer.</summary>
    /// <returns>False, writing nothing, when the destination is too short.</returns>
    public static bool TryEncode(Span<byte> destination, ReadOnlySpan<byte> value, bool huffman, out int written)
    {
        int huffmanLength = huffman ? HpackHuffman.EncodedLength(value) : int.MaxValue;
        bool useHuffman = huffmanLength <= value.Length;
        int length = useHuffman ? huffmanLength : value.Length;
        if (!HpackInteger.TryEncode(destination, length, 7, useHuffman ? (byte)0x80 : (byte)0, out int prefix)
            || destination.Length - prefix < length)
        {
            written = 0;
            return false;
        }

        if (useHuffman)
        {
            HpackHuffman.Encode(value, destination[prefix..]);
        }
        else
        {
            value.CopyTo(destination[prefix..]);
        }

        written = prefix + length;
        return true;
    }
}
