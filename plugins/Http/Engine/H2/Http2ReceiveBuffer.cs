using System.Buffers;

namespace PluginProxy.Http.Engine.H2;

/// <summary>
/// The request data of one stream received but not read yet: a ring of at most the stream window we advertised, rented
/// from the shared pool when data arrives and returned as soon as it is all read, so a stream whose handler keeps up
/// holds no buffer. Not thread-safe: the connection calls it under its lock.
/// </summary>
internal sealed class Http2ReceiveBuffer
{
    private readonly int _capacity;
    private byte[]? _ring;
    private int _start;

    /// <param name="capacity">The most bytes ever held (the stream window we advertised: the client cannot send more unread).</param>
    public Http2ReceiveBuffer(int capacity) => _capacity = capacity;

    /// <summary>The bytes held.</summary>
    public int Count { get; private set; }

    /// <summary>Appends <paramref name="data"/>; false, changing nothing, when it would go beyond the capacity.</summary>
    public bool TryWrite(ReadOnlySpan<byte> data)
    {
        if (data.Length > _capacity - Count)
        {
            return false;
        }

        if (data.IsEmpty)
        {
            return true;
        }

        _ring ??= ArrayPool<byte>.Shared.Rent(_capacity);
        int size = _ring.Length;
        int end = (_start + Count) % size;
        int first = Math.Min(data.Length, size - end);
        data[..first].CopyTo(_ring.AsSpan(end));
        data[first..].CopyTo(_ring);
        Count += data.Length;
        return true;
    }

    /// <summary>Moves up to <paramref name="destination"/>'s length out; returns the bytes moved.</summary>
    public int Read(Span<byte> destination)
    {
        if (_ring is null || Count == 0)
        {
            return 0;
        }

        int n = Math.Min(destination.Length, Count);
        int size = _ring.Length;
        int first = Math.Min(n, size - _start);
        _ring.AsSpan(_start, first).CopyTo(destination);
        _ring.AsSpan(0, n - first).CopyTo(destination[first..]);
        _start = (_start + n) % size;
        Count -= n;
        if (Count == 0)
        {
            Release();
        }

        return n;
    }

    /// <summary>Drops what is held and returns the buffer; returns the bytes dropped.</summary>
    public int Clear()
    {
        int dropped = Count;
        Count = 0;
        Release();
        return dropped;
    }

    private void Release()
    {
        if (_ring is not null)
        {
            ArrayPool<byte>.Shared.Return(_ring);
            _ring = null;
        }

        _start = 0;
    }
}
