using System.Buffers;

namespace PluginProxy.Compression;

/// <summary>
/// A write-only stream that appends to whichever <see cref="IBufferWriter{T}"/> is its <see cref="Target"/> at the time
/// (the engine's output for the current call), so that <see cref="System.IO.Compression.GZipStream"/> can write into it.
/// Writes while there is no target (a compressor disposed before the body ended) are dropped.
/// </summary>
internal sealed class BufferWriterStream : Stream
{
    /// <summary>Where writes go now, or null to drop them.</summary>
    public IBufferWriter<byte>? Target { get; set; }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (Target is { } target && buffer.Length > 0)
        {
            buffer.CopyTo(target.GetSpan(buffer.Length));
            target.Advance(buffer.Length);
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void WriteByte(byte value) => Write([value]);

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
