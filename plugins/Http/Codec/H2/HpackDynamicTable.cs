namespace PluginProxy.Http.Codec.H2;

/// <summary>
/// The HPACK dynamic table (RFC 7541 §2.3.2, §4): entries newest first, each counted as name + value + 32 bytes, the
/// oldest evicted when an addition or a smaller maximum size needs room. The bytes of all entries live in one byte
/// array, in insertion order (oldest first), and the entries' positions in a ring of fixed size; when the bytes reach the
/// end of the array the live ones are moved back to its start (the array is twice the capacity, so this happens at
/// most once per capacity's worth of additions). Nothing is allocated per entry; the arrays are allocated at the first
/// addition, grow by doubling as entries need them, and are kept.
/// </summary>
internal sealed class HpackDynamicTable
{
    /// <summary>The overhead counted per entry on top of its name and value (§4.1).</summary>
    public const int EntryOverhead = 32;

    private const int InitialEntries = 8;
    private const int InitialBytes = 512;

    private byte[] _bytes = [];
    private Entry[] _ring = [];

    // The ring slot of the next entry added; entry i (0 = newest) is at _head - 1 - i, modulo the ring size.
    private int _head;

    // Where the next entry's bytes go: the end of the newest entry.
    private int _end;

    /// <param name="capacity">The largest maximum size this table will be given, in bytes (the SETTINGS_HEADER_TABLE_SIZE bound).</param>
    public HpackDynamicTable(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        Capacity = capacity;
        MaxSize = capacity;
    }

    /// <summary>The largest <see cref="MaxSize"/> this table accepts.</summary>
    public int Capacity { get; }

    /// <summary>The current maximum size (§4.2), changed by <see cref="SetMaxSize"/>.</summary>
    public int MaxSize { get; private set; }

    /// <summary>The sum of the entries' sizes (name + value + 32 each).</summary>
    public int Size { get; private set; }

    /// <summary>The number of entries.</summary>
    public int Count { get; private set; }

    /// <summary>The name of entry <paramref name="index"/> (0 = the newest, HPACK index 62).</summary>
    public ReadOnlySpan<byte> Name(int index)
    {
        Entry entry = At(index);
        return _bytes.AsSpan(entry.Offset, entry.NameLength);
    }

    /// <summary>The value of entry <paramref name="index"/> (0 = the newest).</summary>
    public ReadOnlySpan<byte> Value(int index)
    {
        Entry entry = At(index);
        return _bytes.AsSpan(entry.Offset + entry.NameLength, entry.ValueLength);
    }

    /// <summary>The size of entry <paramref name="index"/> as counted by the table.</summary>
    public int EntrySize(int index)
    {
        Entry entry = At(index);
        return entry.NameLength + entry.ValueLength + EntryOverhead;
    }

    /// <summary>Changes the maximum size (a dynamic table size update), evicting the oldest entries until the table fits.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxSize"/> is negative or above <see cref="Capacity"/>.</exception>
    public void SetMaxSize(int maxSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxSize, Capacity);
        MaxSize = maxSize;
        EvictUntil(maxSize);
    }

    /// <summary>Evicts every entry (what adding an entry larger than <see cref="MaxSize"/> does).</summary>
    public void Clear() => EvictUntil(0);

    /// <summary>
    /// Adds an entry as the newest, evicting the oldest ones to make room (§4.4). An entry larger than
    /// <see cref="MaxSize"/> empties the table and is not added. <paramref name="name"/> and <paramref name="value"/>
    /// must not point into this table (copy them first).
    /// </summary>
    public void Add(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        if (name.Overlaps(_bytes) || value.Overlaps(_bytes))
        {
            throw new ArgumentException("The entry's bytes must not come from the table itself.");
        }

        long size = (long)name.Length + value.Length + EntryOverhead;
        if (size > MaxSize)
        {
            Clear();
            return;
        }

        EvictUntil(MaxSize - (int)size);
        int length = name.Length + value.Length;
        MakeRoom(length);

        name.CopyTo(_bytes.AsSpan(_end));
        value.CopyTo(_bytes.AsSpan(_end + name.Length));
        _ring[_head] = new Entry(_end, name.Length, value.Length);
        _head = (_head + 1) % _ring.Length;
        _end += length;
        Count++;
        Size += (int)size;
    }

    /// <summary>
    /// The newest entry whose name and value match, or -1; <paramref name="nameIndex"/> is the newest entry with that
    /// name, or -1. Indices are 0-based (add 62 for the HPACK index).
    /// </summary>
    public int Find(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, out int nameIndex)
    {
        nameIndex = -1;
        for (int i = 0; i < Count; i++)
        {
            Entry entry = At(i);
            if (entry.NameLength != name.Length || !name.SequenceEqual(_bytes.AsSpan(entry.Offset, entry.NameLength)))
            {
                continue;
            }

            if (nameIndex < 0)
            {
                nameIndex = i;
            }

            if (value.SequenceEqual(_bytes.AsSpan(entry.Offset + entry.NameLength, entry.ValueLength)))
            {
                return i;
            }
        }

        return -1;
    }

    private Entry At(int index)
    {
        if ((uint)index >= (uint)Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"The dynamic table has {Count} entries.");
        }

        int slot = _head - 1 - index;
        return _ring[slot < 0 ? slot + _ring.Length : slot];
    }

    private void EvictUntil(int size)
    {
        while (Size > size)
        {
            Entry oldest = At(Count - 1);
            Size -= oldest.NameLength + oldest.ValueLength + EntryOverhead;
            Count--;
        }

        if (Count == 0)
        {
            _end = 0;
        }
    }

    /// <summary>
    /// Room for one more entry of <paramref name="length"/> bytes: the ring and the byte array start small and double as
    /// entries need them (up to the most the capacity can hold: every entry counts at least 32 bytes, and the bytes array
    /// is twice the capacity), so a connection whose peer indexes little keeps little.
    /// </summary>
    private void MakeRoom(int length)
    {
        if (Count == _ring.Length)
        {
            GrowRing(Math.Min(Math.Max(_ring.Length * 2, InitialEntries), (Capacity / EntryOverhead) + 1));
        }

        if (_end + length > _bytes.Length)
        {
            Compact();
            if (_end + length > _bytes.Length)
            {
                Array.Resize(ref _bytes, Math.Min(Math.Max(Math.Max(_bytes.Length * 2, InitialBytes), _end + length), 2 * Capacity));
            }
        }
    }

    /// <summary>A larger ring, the entries in it oldest first.</summary>
    private void GrowRing(int size)
    {
        var ring = new Entry[size];
        for (int i = 0; i < Count; i++)
        {
            ring[Count - 1 - i] = At(i);
        }

        _ring = ring;
        _head = Count;
    }

    /// <summary>Moves the live bytes (oldest entry first) to the start of the array.</summary>
    private void Compact()
    {
        if (Count == 0)
        {
            _end = 0;
            return;
        }

        int start = At(Count - 1).Offset;
        _bytes.AsSpan(start, _end - start).CopyTo(_bytes);
        for (int i = 0; i < Count; i++)
        {
            int slot = _head - 1 - i;
            slot = slot < 0 ? slot + _ring.Length : slot;
            _ring[slot] = _ring[slot] with { Offset = _ring[slot].Offset - start };
        }

        _end -= start;
    }

    private readonly record struct Entry(int Offset, int NameLength, int ValueLength);
}
