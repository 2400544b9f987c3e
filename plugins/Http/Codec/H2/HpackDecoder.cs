using System.Buffers;

namespace PluginProxy.Http.Codec.H2;

/// <summary>
/// Decodes HPACK field blocks (RFC 7541) of one connection direction, keeping its dynamic table from block to block.
/// A block is decoded whole (the caller joins HEADERS and CONTINUATION fragments first) into a sink, with no
/// allocation per field: literal strings are handed over in place, Huffman-coded ones are decoded into a scratch buffer
/// rented for the call and returned after it.
/// <para>
/// Limits. The header list (sum of name + value + 32 per field, RFC 9113 §6.5.2) is bounded by
/// <see cref="MaxHeaderListSize"/>: once a block exceeds it, the fields that follow are no longer given to the sink but
/// decoding goes on to the end of the block, so the dynamic table stays in step and the connection stays usable; the
/// result is <see cref="HpackError.HeaderListTooLarge"/> and the caller answers the stream (431 or RST_STREAM). A
/// Huffman-coded string is decoded into at most max(<see cref="MaxHeaderListSize"/>, table capacity) bytes: a longer one
/// cannot belong to an accepted list nor fit the table, so it is only checked, never stored. A small block expanding into
/// huge fields, or referencing a large table entry many times, therefore costs time proportional to the block and no
/// memory beyond that bound. Every other error is fatal for the connection (COMPRESSION_ERROR); the fields already given
/// to the sink must then be discarded.
/// </para>
/// </summary>
internal sealed class HpackDecoder
{
    /// <summary>The protocol's initial SETTINGS_HEADER_TABLE_SIZE.</summary>
    public const int DefaultMaxTableSize = 4096;

    /// <summary>The default header list limit (the same as the HTTP/1.1 <c>max_request_head</c> default).</summary>
    public const int DefaultMaxHeaderListSize = 16384;

    private const int FieldOverhead = HpackDynamicTable.EntryOverhead;

    private readonly HpackDynamicTable _table;
    private int _allowedTableSize;
    private bool _sizeUpdateRequired;
    private byte[] _scratch = [];

    /// <param name="maxTableSize">
    /// The SETTINGS_HEADER_TABLE_SIZE we advertise, and the most the table can ever be given. The peer may use the
    /// protocol's 4096 until it acknowledges our SETTINGS, so a value below 4096 is only safe once the peer knows it; use
    /// <see cref="SetMaxTableSize"/> after the acknowledgement to lower the limit.
    /// </param>
    /// <param name="maxHeaderListSize">The header list limit (the SETTINGS_MAX_HEADER_LIST_SIZE we advertise).</param>
    public HpackDecoder(int maxTableSize = DefaultMaxTableSize, int maxHeaderListSize = DefaultMaxHeaderListSize)
    {
        _table = new HpackDynamicTable(maxTableSize);
        _allowedTableSize = maxTableSize;
        MaxHeaderListSize = maxHeaderListSize;
    }

    /// <summary>The header list limit: sum of name + value + 32 over a block's fields.</summary>
    public int MaxHeaderListSize
    {
        get;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            field = value;
        }
    }

    /// <summary>The dynamic table (for inspection).</summary>
    public HpackDynamicTable Table => _table;

    /// <summary>
    /// Sets the SETTINGS_HEADER_TABLE_SIZE in force (call when the peer acknowledged the SETTINGS that changed it). A
    /// value below the table's current maximum requires a size update at the start of the next block.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or above the size given to the constructor.</exception>
    public void SetMaxTableSize(int maxTableSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxTableSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxTableSize, _table.Capacity);
        _allowedTableSize = maxTableSize;
        if (maxTableSize < _table.MaxSize)
        {
            _sizeUpdateRequired = true;
        }
    }

    /// <summary>Decodes one complete field block, giving each field to <paramref name="sink"/> in order.</summary>
    /// <returns><see cref="HpackError.None"/>, <see cref="HpackError.HeaderListTooLarge"/> (not fatal), or a fatal error.</returns>
    public HpackError Decode<TSink>(ReadOnlySpan<byte> block, ref TSink sink)
        where TSink : IHpackSink, allows ref struct
    {
        var state = new BlockState();
        try
        {
            int position = 0;
            while (position < block.Length)
            {
                HpackError error = DecodeRepresentation(block, ref position, ref sink, ref state);
                if (error != HpackError.None)
                {
                    return error;
                }
            }

            return state.OverLimit ? HpackError.HeaderListTooLarge : HpackError.None;
        }
        finally
        {
            if (_scratch.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_scratch);
                _scratch = [];
            }
        }
    }

    private HpackError DecodeRepresentation<TSink>(ReadOnlySpan<byte> block, scoped ref int position, ref TSink sink, scoped ref BlockState state)
        where TSink : IHpackSink, allows ref struct
    {
        byte first = block[position];
        if ((first & 0xE0) == 0x20)
        {
            return state.FieldSeen ? HpackError.TableSizeUpdateNotAtStart : SizeUpdate(block, ref position);
        }

        if (_sizeUpdateRequired)
        {
            return HpackError.TableSizeUpdateMissing;
        }

        state.FieldSeen = true;
        if ((first & 0x80) != 0)
        {
            HpackError error = HpackInteger.Decode(block[position..], 7, out int index, out int used);
            position += used;
            if (error == HpackError.None)
            {
                error = Lookup(index, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value);
                if (error == HpackError.None)
                {
                    Deliver(name, value, oversized: false, neverIndexed: false, ref sink, ref state);
                }
            }

            return error;
        }

        return Literal(block, ref position, ref sink, ref state);
    }

    /// <summary>The literal representations (§6.2): with incremental indexing, without indexing, never indexed.</summary>
    private HpackError Literal<TSink>(ReadOnlySpan<byte> block, scoped ref int position, ref TSink sink, scoped ref BlockState state)
        where TSink : IHpackSink, allows ref struct
    {
        byte first = block[position];
        bool incremental = (first & 0xC0) == 0x40;
        bool neverIndexed = (first & 0xF0) == 0x10;
        HpackError error = HpackInteger.Decode(block[position..], incremental ? 6 : 4, out int nameIndex, out int used);
        if (error != HpackError.None)
        {
            return error;
        }

        position += used;
        ReadOnlySpan<byte> name;
        bool nameOversized = false;
        bool nameInScratch = false;
        if (nameIndex == 0)
        {
            error = ReadString(block, ref position, 0, out name, out nameOversized, out nameInScratch);
        }
        else
        {
            error = Lookup(nameIndex, out name, out _);
            if (error == HpackError.None && incremental && nameIndex > HpackStaticTable.Count)
            {
                // The new entry may evict the one the name comes from: copy it out of the table first.
                Span<byte> copy = Scratch(0, name.Length);
                name.CopyTo(copy);
                name = copy;
                nameInScratch = true;
            }
        }

        if (error != HpackError.None)
        {
            return error;
        }

        int nameLength = name.Length;
        error = ReadString(block, ref position, nameInScratch ? nameLength : 0, out ReadOnlySpan<byte> value, out bool valueOversized, out _);
        if (error != HpackError.None)
        {
            return error;
        }

        if (nameInScratch)
        {
            // Decoding the value may have moved the scratch buffer.
            name = _scratch.AsSpan(0, nameLength);
        }

        bool oversized = nameOversized || valueOversized;
        if (incremental)
        {
            if (oversized)
            {
                _table.Clear();
            }
            else
            {
                _table.Add(name, value);
            }
        }

        Deliver(name, value, oversized, neverIndexed, ref sink, ref state);
        return HpackError.None;
    }

    private void Deliver<TSink>(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool oversized, bool neverIndexed,
        ref TSink sink, scoped ref BlockState state)
        where TSink : IHpackSink, allows ref struct
    {
        if (state.OverLimit)
        {
            return;
        }

        state.ListSize += oversized ? long.MaxValue / 2 : (long)name.Length + value.Length + FieldOverhead;
        if (state.ListSize > MaxHeaderListSize)
        {
            state.OverLimit = true;
            return;
        }

        sink.OnField(name, value, neverIndexed);
    }

    private HpackError SizeUpdate(ReadOnlySpan<byte> block, scoped ref int position)
    {
        HpackError error = HpackInteger.Decode(block[position..], 5, out int size, out int used);
        if (error != HpackError.None)
        {
            return error;
        }

        if (size > _allowedTableSize)
        {
            return HpackError.TableSizeUpdateTooLarge;
        }

        position += used;
        _table.SetMaxSize(size);
        _sizeUpdateRequired = false;
        return HpackError.None;
    }

    private HpackError Lookup(int index, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        name = default;
        value = default;
        if (index == 0)
        {
            return HpackError.IndexZero;
        }

        if (index <= HpackStaticTable.Count)
        {
            name = HpackStaticTable.Name(index);
            value = HpackStaticTable.Value(index);
            return HpackError.None;
        }

        int dynamic = index - HpackStaticTable.Count - 1;
        if (dynamic >= _table.Count)
        {
            return HpackError.IndexOutOfRange;
        }

        name = _table.Name(dynamic);
        value = _table.Value(dynamic);
        return HpackError.None;
    }

    /// <summary>
    /// Reads a string literal: a plain one is returned in place; a Huffman-coded one is decoded into the scratch buffer at
    /// <paramref name="scratchOffset"/>, unless it is longer than any field worth keeping: then it is only checked and
    /// <paramref name="oversized"/> is set.
    /// </summary>
    private HpackError ReadString(ReadOnlySpan<byte> block, scoped ref int position, int scratchOffset, out ReadOnlySpan<byte> result,
        out bool oversized, out bool inScratch)
    {
        result = default;
        oversized = false;
        inScratch = false;
        HpackError error = HpackString.ReadPrefix(block[position..], out bool huffman, out int length, out int used);
        if (error != HpackError.None)
        {
            return error;
        }

        ReadOnlySpan<byte> raw = block.Slice(position + used, length);
        position += used + length;
        if (!huffman)
        {
            result = raw;
            return HpackError.None;
        }

        int limit = Math.Max(MaxHeaderListSize, _table.Capacity);
        Span<byte> destination = Scratch(scratchOffset, Math.Min(HpackHuffman.MaxDecodedLength(length), limit));
        error = HpackHuffman.Decode(raw, destination, out int written);
        if (error == HpackError.StringTooLong)
        {
            oversized = true;
            return HpackHuffman.GetDecodedLength(raw, out _);
        }

        result = destination[..written];
        inScratch = true;
        return error;
    }

    /// <summary>
    /// <paramref name="length"/> bytes of the scratch buffer from <paramref name="offset"/>, growing it (from the shared
    /// pool, keeping the bytes before <paramref name="offset"/>) when needed.
    /// </summary>
    private Span<byte> Scratch(int offset, int length)
    {
        int needed = offset + length;
        if (_scratch.Length < needed)
        {
            byte[] bigger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, 256));
            if (_scratch.Length > 0)
            {
                _scratch.AsSpan(0, offset).CopyTo(bigger);
                ArrayPool<byte>.Shared.Return(_scratch);
            }

            _scratch = bigger;
        }

        return _scratch.AsSpan(offset, length);
    }

    private struct BlockState
    {
        public bool FieldSeen;
        public bool OverLimit;
        public long ListSize;
    }
}
