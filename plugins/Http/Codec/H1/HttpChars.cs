using System.Buffers;

namespace PluginProxy.Http.Codec.H1;

/// <summary>The byte classes of RFC 9110/9112, as vectorized search sets.</summary>
internal static class HttpChars
{
    public const byte CR = (byte)'\r';
    public const byte LF = (byte)'\n';
    public const byte SP = (byte)' ';
    public const byte HTAB = (byte)'\t';
    public const byte Colon = (byte)':';

    /// <summary>tchar: the bytes of tokens (methods, header names, transfer codings).</summary>
    public static readonly SearchValues<byte> Token =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"u8);

    /// <summary>Bytes never allowed in a field value: controls other than HTAB (CR and LF included), and DEL.</summary>
    public static readonly SearchValues<byte> InvalidInValue = SearchValues.Create(
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127]);

    /// <summary>Bytes of a request-target: visible ASCII only.</summary>
    public static readonly SearchValues<byte> Target = SearchValues.Create(Enumerable.Range(0x21, 0x7E - 0x21 + 1).Select(b => (byte)b).ToArray());

    /// <summary>Bytes of an authority (Host): unreserved, sub-delims, pct-encoding, ':' and IPv6 brackets.</summary>
    public static readonly SearchValues<byte> Authority =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=%:[]"u8);

    public static readonly SearchValues<byte> Digits = SearchValues.Create("0123456789"u8);

    public static readonly SearchValues<byte> HexDigits = SearchValues.Create("0123456789abcdefABCDEF"u8);

    public static bool IsOws(byte b) => b is SP or HTAB;

    /// <summary>The value of a hexadecimal digit (either case), or -1.</summary>
    public static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };

    public static ReadOnlySpan<byte> TrimOws(ReadOnlySpan<byte> value)
    {
        int start = 0;
        int end = value.Length;
        while (start < end && IsOws(value[start]))
        {
            start++;
        }

        while (end > start && IsOws(value[end - 1]))
        {
            end--;
        }

        return value[start..end];
    }
}
