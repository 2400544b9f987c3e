using System.Buffers;

namespace PluginProxy.Http.Codec.H2;

/// <summary>
/// Encodes field blocks (RFC 7541) for one connection direction, with its own dynamic table.
/// <para>
/// Per field: the indexed representation when the static or dynamic table holds the pair; otherwise a literal with
/// the name's index when a table holds the name, its value Huffman-coded unless that is longer. Sensitive fields
/// (<c>authorization</c>, <c>proxy-authorization</c>, <c>set-cookie</c>, a <c>cookie</c> shorter than 20 bytes, or any
/// field the caller marks) are sent as "never indexed" literals. Other literals are added to the dynamic table
/// (incremental indexing) unless their name changes with nearly every message (<c>:path</c>, <c>content-length</c>,
/// validators and dates of the resource) or the entry would take more than three quarters of the table.
/// </para>
/// <para>
/// The table's maximum size is the smaller of the capacity given to the constructor and the peer's
/// SETTINGS_HEADER_TABLE_SIZE (<see cref="SetPeerMaxTableSize"/>); a change is announced by size updates at the start of
/// the next block (the smallest size reached since the last block, then the final one), as §4.2 requires.
/// A capacity of 0 disables indexing entirely. Every block must start with <see cref="TryBeginBlock"/>.
/// </para>
/// </summary>
internal sealed class HpackEncoder
{
    /// <summary>The default capacity of the encoder's dynamic table.</summary>
    public const int DefaultMaxTableSize = 4096;

    /// <summary>The most bytes <see cref="TryBeginBlock"/> writes.</summary>
    public const int MaxBlockStartLength = 2 * HpackInteger.MaxLength;

    private const int ProtocolInitialTableSize = 4096;

    private readonly HpackDynamicTable _table;
    private readonly bool _huffman;

    // The maximum size the peer's decoder holds, and the smallest one this table had since the last block started.
    private int _announced = ProtocolInitialTableSize;
    private int _smallestSinceBlock;

    /// <param name="maxTableSize">The most the encoder's dynamic table may use (0: no indexing).</param>
    /// <param name="useHuffman">False to send every string literal as it is.</param>
    public HpackEncoder(int maxTableSize = DefaultMaxTableSize, bool useHuffman = true)
    {
        _table = new HpackDynamicTable(maxTableSize);
        _table.SetMaxSize(Math.Min(maxTableSize, ProtocolInitialTableSize));
        _smallestSinceBlock = _table.MaxSize;
        _huffman = useHuffman;
    }

    /// <summary>The dynamic table (for inspection).</summary>
    public HpackDynamicTable Table => _table;

    /// <summary>The most bytes <see cref="TryEncodeField"/> writes for a name and value of these lengths.</summary>
    public static int MaxFieldLength(int nameLength, int valueLength)
        => 1 + HpackString.MaxEncodedLength(nameLength) + HpackString.MaxEncodedLength(valueLength);

    /// <summary>Takes the peer's SETTINGS_HEADER_TABLE_SIZE into account (the table shrinks at once; the update is sent with the next block).</summary>
    public void SetPeerMaxTableSize(uint peerMaxTableSize)
    {
        int size = (int)Math.Min(peerMaxTableSize, (uint)_table.Capacity);
        _table.SetMaxSize(size);
        _smallestSinceBlock = Math.Min(_smallestSinceBlock, size);
    }

    /// <summary>Starts a block: writes the dynamic table size updates owed to the peer, if any.</summary>
    /// <returns>False, changing nothing, when the destination is too short (<see cref="MaxBlockStartLength"/> always suffices).</returns>
    public bool TryBeginBlock(Span<byte> destination, out int written)
    {
        written = 0;
        int last = _announced;
        if (_smallestSinceBlock < last)
        {
            if (!HpackInteger.TryEncode(destination, _smallestSinceBlock, 5, 0x20, out int used))
            {
                return false;
            }

            written = used;
            last = _smallestSinceBlock;
        }

        if (_table.MaxSize != last)
        {
            if (!HpackInteger.TryEncode(destination[written..], _table.MaxSize, 5, 0x20, out int used))
            {
                written = 0;
                return false;
            }

            written += used;
        }

        _announced = _table.MaxSize;
        _smallestSinceBlock = _table.MaxSize;
        return true;
    }

    /// <summary>Encodes one field (name in lowercase), as "never indexed" when <paramref name="neverIndex"/> or sensitive.</summary>
    /// <returns>False, changing nothing, when the destination is too short (<see cref="MaxFieldLength"/> always suffices).</returns>
    public bool TryEncodeField(Span<byte> destination, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndex, out int written)
    {
        written = 0;
        bool sensitive = neverIndex || IsSensitive(name, value);
        int staticIndex = HpackStaticTable.Find(name, value, out int staticName);
        if (!sensitive && staticIndex > 0)
        {
            return HpackInteger.TryEncode(destination, staticIndex, 7, 0x80, out written);
        }

        // The dynamic table holds only fields this encoder indexed: one never indexed whose name is static is not in it.
        bool addToTable = !sensitive && ShouldIndex(name, value);
        int dynamicIndex = -1;
        int dynamicName = -1;
        if (addToTable || staticName == 0)
        {
            dynamicIndex = _table.Find(name, value, out dynamicName);
        }

        if (!sensitive && dynamicIndex >= 0)
        {
            return HpackInteger.TryEncode(destination, HpackStaticTable.Count + 1 + dynamicIndex, 7, 0x80, out written);
        }

        int nameIndex = staticName > 0 ? staticName : dynamicName >= 0 ? HpackStaticTable.Count + 1 + dynamicName : 0;
        (byte pattern, int prefixBits) = sensitive ? ((byte)0x10, 4) : addToTable ? ((byte)0x40, 6) : ((byte)0x00, 4);
        if (!HpackInteger.TryEncode(destination, nameIndex, prefixBits, pattern, out int used))
        {
            return false;
        }

        int length = used;
        if (nameIndex == 0)
        {
            if (!HpackString.TryEncode(destination[length..], name, _huffman, out used))
            {
                return false;
            }

            length += used;
        }

        if (!HpackString.TryEncode(destination[length..], value, _huffman, out used))
        {
            return false;
        }

        if (addToTable)
        {
            _table.Add(name, value);
        }

        written = length + used;
        return true;
    }

    /// <inheritdoc cref="TryBeginBlock"/>
    public void BeginBlock(IBufferWriter<byte> writer)
    {
        TryBeginBlock(writer.GetSpan(MaxBlockStartLength), out int written);
        writer.Advance(written);
    }

    /// <inheritdoc cref="TryEncodeField"/>
    public void EncodeField(IBufferWriter<byte> writer, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndex = false)
    {
        TryEncodeField(writer.GetSpan(MaxFieldLength(name.Length, value.Length)), name, value, neverIndex, out int written);
        writer.Advance(written);
    }

    /// <summary>Fields whose value must not reach any compression table (RFC 7541 §7.1.3).</summary>
    public static bool IsSensitive(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
        => name.SequenceEqual("authorization"u8) || name.SequenceEqual("proxy-authorization"u8)
            || name.SequenceEqual("set-cookie"u8) || (name.SequenceEqual("cookie"u8) && value.Length < 20);

    private bool ShouldIndex(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        long size = (long)name.Length + value.Length + HpackDynamicTable.EntryOverhead;
        if (size > _table.MaxSize * 3L / 4)
        {
            return false;
        }

        return !(name.SequenceEqual(":path"u8) || name.SequenceEqual("content-length"u8) || name.SequenceEqual("content-range"u8)
            || name.SequenceEqual("etag"u8) || name.SequenceEqual("last-modified"u8) || name.SequenceEqual("age"u8)
            || name.SequenceEqual("if-none-match"u8) || name.SequenceEqual("if-modified-since"u8));
    }
}
