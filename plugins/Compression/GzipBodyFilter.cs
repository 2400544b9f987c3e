using System.Buffers;
using System.IO.Compression;
using PluginProxy.Abstractions.Http;

namespace PluginProxy.Compression;

/// <summary>
/// Compresses a response body into gzip as it is relayed. A flush is a zlib sync flush: the client can decompress all it
/// received so far, at the cost of a few bytes, and only when data came since the last one.
/// </summary>
internal sealed class GzipBodyFilter : IResponseBodyFilter
{
    /// <summary>A gzip member holding nothing: header, an empty final block, CRC-32 and length 0.</summary>
    private static ReadOnlySpan<byte> Empty => [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0];

    private readonly BufferWriterStream _sink = new();
    private readonly GZipStream _gzip;
    private bool _pending;
    private bool _any;

    /// <param name="level">The zlib level, 1 to 9.</param>
    public GzipBodyFilter(int level) => _gzip = new GZipStream(_sink, new ZLibCompressionOptions { CompressionLevel = level }, leaveOpen: true);

    /// <inheritdoc/>
    public void Write(ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        _sink.Target = output;
        try
        {
            _gzip.Write(data);
            _pending = true;
            _any |= data.Length > 0;
        }
        finally
        {
            _sink.Target = null;
        }
    }

    /// <inheritdoc/>
    public void Flush(IBufferWriter<byte> output)
    {
        if (!_pending)
        {
            return;
        }

        _sink.Target = output;
        try
        {
            _gzip.Flush();
            _pending = false;
        }
        finally
        {
            _sink.Target = null;
        }
    }

    /// <inheritdoc/>
    public void Complete(IBufferWriter<byte> output)
    {
        if (!_any)
        {
            // GZipStream writes nothing at all for no data, which no client would decode.
            _sink.Target = output;
            _sink.Write(Empty);
            _sink.Target = null;
            return;
        }

        _sink.Target = output;
        try
        {
            // The last block and the gzip trailer (CRC-32, length) are written when the compressor is disposed.
            _gzip.Dispose();
        }
        finally
        {
            _sink.Target = null;
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _gzip.Dispose();
}
