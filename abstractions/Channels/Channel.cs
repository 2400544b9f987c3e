using System.Buffers;

namespace PluginProxy.Abstractions;

/// <summary>
/// One direction of a stream: the bytes held for analysis plus the flags that say how data moves
/// (<see cref="ChannelFlags.Hold"/>, <see cref="ChannelFlags.Autonomous"/>).
/// A channel holds no memory until data arrives, and gives its buffer back to the pool as soon as it is empty,
/// so an idle connection holds no buffer.
/// </summary>
/// <remarks>
/// Supervisors fill a channel with <see cref="GetAppendBuffer"/> and <see cref="Advance"/>, and drain it with
/// <see cref="Consume"/>; flow analyzers read <see cref="Data"/>. A channel is used by one session at a time and is not thread-safe.
/// </remarks>
public sealed class Channel
{
    private readonly ArrayPool<byte> _pool;
    private byte[]? _buffer;
    private int _start;
    private int _length;

    /// <summary>Creates an empty channel.</summary>
    /// <param name="direction">The direction of the stream this channel carries.</param>
    /// <param name="readLimit">The most bytes the channel holds for analysis.</param>
    /// <param name="pool">Where buffers come from; the shared pool when null.</param>
    public Channel(ChannelDirection direction, int readLimit, ArrayPool<byte>? pool = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(readLimit);
        Direction = direction;
        ReadLimit = readLimit;
        _pool = pool ?? ArrayPool<byte>.Shared;
    }

    /// <summary>The direction this channel carries.</summary>
    public ChannelDirection Direction { get; }

    /// <summary>The channel's state flags.</summary>
    public ChannelFlags Flags { get; set; }

    /// <summary>True while <see cref="ChannelFlags.Hold"/> is set.</summary>
    public bool IsHeld => (Flags & ChannelFlags.Hold) != 0;

    /// <summary>True once the producing side closed (<see cref="ChannelFlags.InputEnded"/>).</summary>
    public bool InputEnded => (Flags & ChannelFlags.InputEnded) != 0;

    /// <summary>The most bytes the channel holds for analysis. Reaching it while held is an error for the supervisor to report (431 for an HTTP request head).</summary>
    public int ReadLimit { get; set; }

    /// <summary>The bytes currently held, oldest first.</summary>
    public ReadOnlyMemory<byte> Data => _buffer is null ? ReadOnlyMemory<byte>.Empty : new ReadOnlyMemory<byte>(_buffer, _start, _length);

    /// <summary>The number of bytes currently held.</summary>
    public int Length => _length;

    /// <summary>True when the held bytes reached <see cref="ReadLimit"/>.</summary>
    public bool IsFull => _length >= ReadLimit;

    /// <summary>Every byte ever appended to this channel.</summary>
    public long TotalBytes { get; private set; }

    /// <summary>True while the channel holds a pooled buffer.</summary>
    public bool HasBuffer => _buffer is not null;

    /// <summary>
    /// Returns writable space after the held bytes, renting or growing the buffer as needed but never past <see cref="ReadLimit"/>.
    /// Call <see cref="Advance"/> with the count actually written.
    /// </summary>
    /// <param name="sizeHint">The space wanted; the result may be larger, or smaller when the read limit is near.</param>
    /// <returns>Writable space; empty when the channel is full.</returns>
    public Memory<byte> GetAppendBuffer(int sizeHint = 4096)
    {
        int room = ReadLimit - _length;
        if (room <= 0)
        {
            return Memory<byte>.Empty;
        }

        int want = Math.Min(Math.Max(sizeHint, 1), room);
        if (_buffer is null)
        {
            _buffer = _pool.Rent(want);
            _start = 0;
        }
        else if (_buffer.Length - _start - _length < want)
        {
            if (_buffer.Length - _length >= want)
            {
                // Enough room once the held bytes move to the front.
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _length);
            }
            else
            {
                byte[] bigger = _pool.Rent(_length + want);
                Buffer.BlockCopy(_buffer, _start, bigger, 0, _length);
                _pool.Return(_buffer);
                _buffer = bigger;
            }

            _start = 0;
        }

        int available = Math.Min(_buffer.Length - _start - _length, room);
        return new Memory<byte>(_buffer, _start + _length, available);
    }

    /// <summary>Records that <paramref name="count"/> bytes were written into the space <see cref="GetAppendBuffer"/> returned.</summary>
    public void Advance(int count)
    {
        if (count < 0 || _buffer is null || _start + _length + count > _buffer.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }

        _length += count;
        TotalBytes += count;
    }

    /// <summary>Appends a copy of <paramref name="bytes"/>, up to the read limit.</summary>
    /// <returns>The number of bytes appended (less than given when the read limit is reached).</returns>
    public int Append(ReadOnlySpan<byte> bytes)
    {
        int copied = 0;
        while (copied < bytes.Length)
        {
            Memory<byte> space = GetAppendBuffer(bytes.Length - copied);
            if (space.IsEmpty)
            {
                break;
            }

            int n = Math.Min(space.Length, bytes.Length - copied);
            bytes.Slice(copied, n).CopyTo(space.Span);
            Advance(n);
            copied += n;
        }

        return copied;
    }

    /// <summary>Drops <paramref name="count"/> bytes from the front (they were forwarded or discarded). An emptied channel returns its buffer to the pool.</summary>
    public void Consume(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _length);
        _start += count;
        _length -= count;
        if (_length == 0)
        {
            Release();
        }
    }

    /// <summary>Drops every held byte and returns the buffer to the pool. Flags and counters are kept.</summary>
    public void Release()
    {
        if (_buffer is not null)
        {
            _pool.Return(_buffer);
            _buffer = null;
        }

        _start = 0;
        _length = 0;
    }
}
