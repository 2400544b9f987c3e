using System.Buffers;
using System.Text;

namespace PluginProxy.Http.Codec;

/// <summary>
/// A pooled, growable byte buffer for building a head (and the body bytes sent with it) before one send. It is also the
/// <see cref="IBufferWriter{T}"/> a response body filter writes into.
/// </summary>
internal sealed class OutputBuffer : IBufferWriter<byte>
{
    private byte[] _buffer = [];

    public int Length { get; private set; }

    public ReadOnlyMemory<byte> Written => _buffer.AsMemory(0, Length);

    public void Start(int capacity)
    {
        if (_buffer.Length < capacity)
        {
            Release();
            _buffer = ArrayPool<byte>.Shared.Rent(capacity);
        }

        Length = 0;
    }

    /// <summary>Gives the buffer back to the pool (an idle connection holds none).</summary>
    public void Release()
    {
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }

        Length = 0;
    }

    /// <summary>
    /// Gives the buffer back to the pool when it is larger than <paramref name="keep"/> bytes, else keeps it for the next
    /// head (empty): a state that runs stream after stream rents nothing per request.
    /// </summary>
    public void ReleaseIfLarger(int keep)
    {
        if (_buffer.Length > keep)
        {
            Release();
        }

        Length = 0;
    }

    private Span<byte> Reserve(int count)
    {
        if (Length + count > _buffer.Length)
        {
            byte[] bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, Length + count));
            _buffer.AsSpan(0, Length).CopyTo(bigger);
            if (_buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
            }

            _buffer = bigger;
        }

        return _buffer.AsSpan(Length, count);
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(Reserve(bytes.Length));
        Length += bytes.Length;
    }

    public void Write(byte b)
    {
        Reserve(1)[0] = b;
        Length++;
    }

    /// <summary>Writes a string whose characters are all below 256 (a header name or value: validated when set).</summary>
    public void WriteLatin1(string text)
    {
        Length += Encoding.Latin1.GetBytes(text, Reserve(text.Length));
    }

    public void WriteNumber(long value)
    {
        Span<byte> digits = Reserve(20);
        value.TryFormat(digits, out int written);
        Length += written;
    }

    public void WriteHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        Write(name);
        Write(": "u8);
        Write(value);
        Write("\r\n"u8);
    }

    /// <inheritdoc/>
    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Reserve(Math.Max(sizeHint, 256));
        return _buffer.AsSpan(Length);
    }

    /// <inheritdoc/>
    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Reserve(Math.Max(sizeHint, 256));
        return _buffer.AsMemory(Length);
    }

    /// <inheritdoc/>
    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _buffer.Length - Length);
        Length += count;
    }

    /// <summary>The space left in the current buffer, for appending body bytes without growing.</summary>
    public int SpareCapacity => _buffer.Length - Length;
}
