using PluginProxy.Abstractions.Http;
using PluginProxy.Http.Codec;
using PluginProxy.Http.Codec.H1;

namespace PluginProxy.Http.Engine;

/// <summary>
/// A response body going through the <see cref="IResponseBodyFilter"/> an analyzer installed: the filter, the buffer it
/// writes into, and how its output is framed for the client (chunks for HTTP/1.1, as is for HTTP/1.0 and HTTP/2). Kept by
/// a stream state and used again by the next filtered stream of that state.
/// </summary>
internal sealed class FilteredBody
{
    private readonly OutputBuffer _output = new();
    private IResponseBodyFilter? _filter;
    private bool _chunked;

    /// <summary>True while a filter is installed (from <see cref="Begin"/> to <see cref="End"/>).</summary>
    public bool Active => _filter is not null;

    /// <param name="filter">The analyzer's filter; this object disposes it.</param>
    /// <param name="chunked">True to frame the output in chunked coding (an HTTP/1.1 client).</param>
    public void Begin(IResponseBodyFilter filter, bool chunked)
    {
        _filter = filter;
        _chunked = chunked;
        _output.Start(0);
    }

    /// <summary>Hands the next data block of the body to the filter.</summary>
    public void Write(ReadOnlySpan<byte> data) => _filter!.Write(data, _output);

    /// <summary>
    /// Ends a round of writes: the filter flushes (or completes, at the end of the body), and its output goes into
    /// <paramref name="target"/> framed for the client; at the end of a chunked body, the last chunk and the trailers too.
    /// </summary>
    public void EndRound(OutputBuffer target, bool complete, HttpHeaders? trailers)
    {
        if (complete)
        {
            _filter!.Complete(_output);
        }
        else
        {
            _filter!.Flush(_output);
        }

        ReadOnlySpan<byte> data = _output.Written.Span;
        if (!_chunked)
        {
            target.Write(data);
        }
        else
        {
            if (data.Length > 0)
            {
                ChunkWriter.Write(target, data);
            }

            if (complete)
            {
                ChunkWriter.WriteLast(target, trailers);
            }
        }

        _output.Start(0);
    }

    /// <summary>Disposes the filter (what it throws then is of no consequence any more) and gives the buffer back.</summary>
    public void End()
    {
        IResponseBodyFilter? filter = _filter;
        _filter = null;
        _output.Release();
        try
        {
            filter?.Dispose();
        }
        catch (Exception)
        {
            // The stream is over; a filter failing to let go of its state must not end the connection.
        }
    }
}
