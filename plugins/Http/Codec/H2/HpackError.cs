namespace PluginProxy.Http.Codec.H2;

/// <summary>
/// Why decoding a field block failed (RFC 7541 and RFC 9113 §4.3). <see cref="HeaderListTooLarge"/> is the one
/// non-fatal outcome (the block was decoded to its end and the dynamic table is in step); every other error leaves the
/// compression context unusable: a connection error of type COMPRESSION_ERROR.
/// </summary>
internal enum HpackError
{
    /// <summary>No error.</summary>
    None,

    /// <summary>
    /// The decoded field section exceeds the header list limit (sum of name + value + 32 per field). Not fatal:
    /// answer the stream (431, or RST_STREAM); the connection goes on.
    /// </summary>
    HeaderListTooLarge,

    /// <summary>The block ends inside a representation (an integer, a string, a missing value).</summary>
    Truncated,

    /// <summary>An integer larger than 2^31-1 or encoded on too many bytes.</summary>
    IntegerOverflow,

    /// <summary>Index 0 in an indexed field.</summary>
    IndexZero,

    /// <summary>An index beyond the static and dynamic tables.</summary>
    IndexOutOfRange,

    /// <summary>Huffman padding longer than 7 bits.</summary>
    HuffmanPaddingTooLong,

    /// <summary>Huffman padding that is not the most significant bits of EOS (all ones).</summary>
    HuffmanPaddingNotOnes,

    /// <summary>The EOS symbol inside a Huffman-coded string.</summary>
    HuffmanEos,

    /// <summary>A decoded string did not fit the destination (only from <see cref="HpackHuffman.Decode"/>; the decoder handles it).</summary>
    StringTooLong,

    /// <summary>A dynamic table size update above the SETTINGS_HEADER_TABLE_SIZE we advertised.</summary>
    TableSizeUpdateTooLarge,

    /// <summary>A dynamic table size update after the first field of the block.</summary>
    TableSizeUpdateNotAtStart,

    /// <summary>No dynamic table size update at the start of the first block after we lowered SETTINGS_HEADER_TABLE_SIZE.</summary>
    TableSizeUpdateMissing,
}

/// <summary>What each <see cref="HpackError"/> means for the connection, and its log detail.</summary>
internal static class HpackErrors
{
    /// <summary>True for every error but <see cref="HpackError.None"/> and <see cref="HpackError.HeaderListTooLarge"/>.</summary>
    public static bool IsFatal(HpackError error) => error is not (HpackError.None or HpackError.HeaderListTooLarge);

    /// <summary>The connection error a fatal decoding error is (COMPRESSION_ERROR), or none.</summary>
    public static Http2Error ToHttp2Error(HpackError error) => IsFatal(error)
        ? Http2Error.Connection(Http2ErrorCode.CompressionError, Describe(error))
        : Http2Error.None;

    /// <summary>A short description for the log.</summary>
    public static string Describe(HpackError error) => error switch
    {
        HpackError.HeaderListTooLarge => "header list larger than the limit",
        HpackError.Truncated => "field block truncated",
        HpackError.IntegerOverflow => "HPACK integer overflow",
        HpackError.IndexZero => "HPACK index 0",
        HpackError.IndexOutOfRange => "HPACK index out of range",
        HpackError.HuffmanPaddingTooLong => "Huffman padding longer than 7 bits",
        HpackError.HuffmanPaddingNotOnes => "Huffman padding not all ones",
        HpackError.HuffmanEos => "Huffman EOS in a string",
        HpackError.StringTooLong => "string longer than the limit",
        HpackError.TableSizeUpdateTooLarge => "dynamic table size update above SETTINGS_HEADER_TABLE_SIZE",
        HpackError.TableSizeUpdateNotAtStart => "dynamic table size update after a field",
        HpackError.TableSizeUpdateMissing => "dynamic table size update expected",
        _ => "no error",
    };
}
