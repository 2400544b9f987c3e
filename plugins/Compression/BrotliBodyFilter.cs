using System.Buffers;
using System.IO.Compression;
using PluginProxy.Abstractions.Http;

namespace PluginProxy.Compression;

/// <summary>
/// Compresses a response body into Brotli as it is relayed, with the span-based <see cref="BrotliEncoder"/> (no stream
/// in between). A flush ends the current meta-block, so the client can decompress all it received so far.
/// </summary>
internal sealed class BrotliBodyFilter : IResponseBodyFilter
{
    /// <summary>The window, as a power of two: 256 KiB bounds the encoder's memory per response.</summary>
    public const int Window = 18;

    private BrotliEncoder _encoder;
    private bool _pending;

    /// <param name="quality">Brotli's quality, 0 to 11.</param>
    public BrotliBodyFilter(int quality) => _encoder = new BrotliEncoder(quality, Window);

    /// <inheritdoc/>
    public void Write(ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        while (true)
        {
            Span<byte> room = output.GetSpan(Math.Clamp(data.Length / 2, 1024, 65536));
            OperationStatus status = _encoder.Compress(data, room, out int consumed, out int written, isFinalBlock: false);
            output.Advance(written);
            data = data[consumed..];
            Check(status);
            if (status == OperationStatus.Done && data.IsEmpty)
            {
                break;
            }
        }

        _pending = true;
    }

    /// <inheritdoc/>
    public void Flush(IBufferWriter<byte> output)
    {
        if (!_pending)
        {
            return;
        }

        OperationStatus status;
        do
        {
            status = _encoder.Flush(output.GetSpan(4096), out int written);
            output.Advance(written);
            Check(status);
        }
        while (status != OperationStatus.Done);
        _pending = false;
    }

    /// <inheritdoc/>
    public void Complete(IBufferWriter<byte> output)
    {
        OperationStatus status;
        do
        {
            status = _encoder.Compress(ReadOnlySpan<byte>.Empty, output.GetSpan(4096), out _, out int written, isFinalBlock: true);
            output.Advance(written);
            Check(status);
        }
        while (status != OperationStatus.Done);
    }

    /// <inheritdoc/>
    public void Dispose() => _encoder.Dispose();

    private static void Check(OperationStatus status)
    {
        if (status == OperationStatus.InvalidData)
        {
            throw new InvalidOperationException("the Brotli encoder failed");
        }
    }
}
