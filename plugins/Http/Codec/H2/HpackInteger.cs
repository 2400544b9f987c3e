namespace PluginProxy.Http.Codec.H2;

/// <summary>
/// The integer representation of RFC 7541 §5.1: a value in the low <c>N</c> bits of a first byte (the "prefix"), and
/// when it does not fit, continuation bytes of seven bits each, least significant first. Values are limited to
/// 0..2^31-1; a larger value or more than five continuation bytes is an overflow.
/// </summary>
internal static class HpackInteger
{
    /// <summary>The most bytes an integer takes (any prefix): the first byte and five continuation bytes.</summary>
    public const int MaxLength = 6;

    private const int MaxContinuationBytes = 5;

    /// <summary>Reads an integer whose first byte is <c>source[0]</c>, with a <paramref name="prefixBits"/>-bit prefix (1 to 8).</summary>
    /// <returns><see cref="HpackError.None"/>, <see cref="HpackError.Truncated"/> or <see cref="HpackError.IntegerOverflow"/>.</returns>
    public static HpackError Decode(ReadOnlySpan<byte> source, int prefixBits, out int value, out int consumed)
    {
        value = 0;
        consumed = 0;
        if (source.IsEmpty)
        {
            return HpackError.Truncated;
        }

        int mask = (1 << prefixBits) - 1;
        int prefix = source[0] & mask;
        if (prefix < mask)
        {
            value = prefix;
            consumed = 1;
            return HpackError.None;
        }

        long result = prefix;
        for (int i = 1; i <= MaxContinuationBytes; i++)
        {
            if (i >= source.Length)
            {
                return HpackError.Truncated;
            }

            byte b = source[i];
            result += (long)(b & 0x7F) << (7 * (i - 1));
            if (result > int.MaxValue)
            {
                return HpackError.IntegerOverflow;
            }

            if ((b & 0x80) == 0)
            {
                value = (int)result;
                consumed = i + 1;
                return HpackError.None;
            }
        }

        return HpackError.IntegerOverflow;
    }

    /// <summary>How many bytes <paramref name="value"/> takes with a <paramref name="prefixBits"/>-bit prefix.</summary>
    public static int EncodedLength(int value, int prefixBits)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        int mask = (1 << prefixBits) - 1;
        if (value < mask)
        {
            return 1;
        }

        int length = 2;
        for (int rest = value - mask; rest >= 0x80; rest >>= 7)
        {
            length++;
        }

        return length;
    }

    /// <summary>
    /// Writes <paramref name="value"/> with a <paramref name="prefixBits"/>-bit prefix; the bits of the first byte above the
    /// prefix are taken from <paramref name="flags"/> (the representation's pattern).
    /// </summary>
    /// <returns>False, writing nothing, when <paramref name="destination"/> is too short.</returns>
    public static bool TryEncode(Span<byte> destination, int value, int prefixBits, byte flags, out int written)
    {
        written = EncodedLength(value, prefixBits);
        if (destination.Length < written)
        {
            written = 0;
            return false;
        }

        int mask = (1 << prefixBits) - 1;
        byte high = (byte)(flags & ~mask);
        if (value < mask)
        {
            destination[0] = (byte)(high | value);
            return true;
        }

        destination[0] = (byte)(high | mask);
        int rest = value - mask;
        int i = 1;
        for (; rest >= 0x80; rest >>= 7)
        {
            destination[i++] = (byte)((rest & 0x7F) | 0x80);
        }

        destination[i] = (byte)rest;
        return true;
    }
}
