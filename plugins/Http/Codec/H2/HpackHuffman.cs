namespace PluginProxy.Http.Codec.H2;

/// <summary>
/// Huffman coding of string literals (RFC 7541 §5.2, Appendix B). Decoding reads the canonical code length by length:
/// for each length, the codes form one consecutive range, so a symbol is found by comparing the next bits with that
/// range. It refuses EOS inside the string, padding longer than 7 bits, and padding that is not all ones.
/// </summary>
internal static class HpackHuffman
{
    private const int MinLength = HpackHuffmanTable.MinLength;
    private const int MaxLength = HpackHuffmanTable.MaxLength;

    // For each code length: the first code, how many codes, and where their symbols start in SortedSymbols.
    private static readonly uint[] FirstCode = new uint[MaxLength + 1];
    private static readonly int[] CodeCount = new int[MaxLength + 1];
    private static readonly int[] SymbolOffset = new int[MaxLength + 1];
    private static readonly short[] SortedSymbols = new short[HpackHuffmanTable.Eos + 1];

    static HpackHuffman()
    {
        for (int symbol = 0; symbol <= HpackHuffmanTable.Eos; symbol++)
        {
            CodeCount[HpackHuffmanTable.Length(symbol)]++;
        }

        int offset = 0;
        for (int length = MinLength; length <= MaxLength; length++)
        {
            SymbolOffset[length] = offset;
            offset += CodeCount[length];
        }

        var placed = new int[MaxLength + 1];
        for (int symbol = 0; symbol <= HpackHuffmanTable.Eos; symbol++)
        {
            int length = HpackHuffmanTable.Length(symbol);
            if (placed[length] == 0)
            {
                FirstCode[length] = HpackHuffmanTable.Code(symbol);
            }
            else if (HpackHuffmanTable.Code(symbol) != FirstCode[length] + (uint)placed[length])
            {
                throw new InvalidOperationException($"The Huffman code of symbol {symbol} is not canonical.");
            }

            SortedSymbols[SymbolOffset[length] + placed[length]++] = (short)symbol;
        }
    }

    /// <summary>The length of <paramref name="source"/> once Huffman-coded, padding included.</summary>
    public static int EncodedLength(ReadOnlySpan<byte> source)
    {
        long bits = 0;
        foreach (byte b in source)
        {
            bits += HpackHuffmanTable.Length(b);
        }

        return (int)((bits + 7) >> 3);
    }

    /// <summary>Huffman-codes <paramref name="source"/>, padding the last byte with ones.</summary>
    /// <returns>The bytes written (<see cref="EncodedLength"/>).</returns>
    /// <exception cref="ArgumentException">The destination is shorter than <see cref="EncodedLength"/>.</exception>
    public static int Encode(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        if (destination.Length < EncodedLength(source))
        {
            throw new ArgumentException("The destination is shorter than the Huffman-coded string.", nameof(destination));
        }

        ulong pending = 0;
        int bits = 0;
        int written = 0;
        foreach (byte b in source)
        {
            int length = HpackHuffmanTable.Length(b);
            pending = (pending << length) | HpackHuffmanTable.Code(b);
            bits += length;
            while (bits >= 8)
            {
                bits -= 8;
                destination[written++] = (byte)(pending >> bits);
            }
        }

        if (bits > 0)
        {
            destination[written++] = (byte)((pending << (8 - bits)) | (0xFFu >> bits));
        }

        return written;
    }

    /// <summary>
    /// Decodes <paramref name="source"/> into <paramref name="destination"/>. <see cref="HpackError.StringTooLong"/> when the
    /// output does not fit (what was written is then incomplete); a Huffman error when the string is invalid.
    /// </summary>
    public static HpackError Decode(ReadOnlySpan<byte> source, Span<byte> destination, out int written)
        => Run(source, destination, countOnly: false, out written);

    /// <summary>Checks <paramref name="source"/> as <see cref="Decode"/> does and counts the decoded bytes, writing nothing.</summary>
    public static HpackError GetDecodedLength(ReadOnlySpan<byte> source, out int length)
        => Run(source, default, countOnly: true, out length);

    /// <summary>The most bytes <paramref name="encodedLength"/> Huffman-coded bytes can decode to (shortest code: 5 bits).</summary>
    public static int MaxDecodedLength(int encodedLength) => (int)(((long)encodedLength * 8) / MinLength);

    private static HpackError Run(ReadOnlySpan<byte> source, Span<byte> destination, bool countOnly, out int written)
    {
        written = 0;
        ulong pending = 0;
        int bits = 0;
        foreach (byte b in source)
        {
            pending = (pending << 8) | b;
            bits += 8;
            while (bits >= MinLength)
            {
                int symbol = NextSymbol(pending, bits, out int length);
                if (symbol < 0)
                {
                    break;
                }

                if (symbol == HpackHuffmanTable.Eos)
                {
                    return HpackError.HuffmanEos;
                }

                if (!countOnly)
                {
                    if (written == destination.Length)
                    {
                        return HpackError.StringTooLong;
                    }

                    destination[written] = (byte)symbol;
                }

                written++;
                bits -= length;
            }
        }

        if (bits > 7)
        {
            return HpackError.HuffmanPaddingTooLong;
        }

        ulong padMask = (1UL << bits) - 1;
        return (pending & padMask) == padMask ? HpackError.None : HpackError.HuffmanPaddingNotOnes;
    }

    /// <summary>The symbol whose code starts the <paramref name="bits"/> low bits of <paramref name="pending"/>, or -1 when more bits are needed.</summary>
    private static int NextSymbol(ulong pending, int bits, out int length)
    {
        int longest = Math.Min(bits, MaxLength);
        for (length = MinLength; length <= longest; length++)
        {
            uint code = (uint)(pending >> (bits - length)) & ((1u << length) - 1);
            uint rank = code - FirstCode[length];
            if (rank < (uint)CodeCount[length])
            {
                return SortedSymbols[SymbolOffset[length] + (int)rank];
            }
        }

        // The code is complete: every 30-bit pattern starts with a code, so only a short tail gets here.
        return -1;
    }
}
