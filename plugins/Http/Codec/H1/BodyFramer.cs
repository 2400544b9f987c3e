
namespace PluginProxy.Http.Codec.H1;

/// <summary>How the length of a message body is known (RFC 9112 §6).</summary>
internal enum BodyKind
{
    /// <summary>No body: a request without Content-Length or Transfer-Encoding, a HEAD response, 1xx, 204, 304.</summary>
    None,

    /// <summary>Content-Length bytes.</summary>
    Length,

    /// <summary>Chunked transfer coding, ending with the last chunk and the trailer section.</summary>
    Chunked,

    /// <summary>A response body that ends when the server closes the connection.</summary>
    UntilClose,
}

/// <summary>
/// Follows one body as it passes through, so that exactly its bytes are forwarded and the bytes after it (a pipelined
/// request) stay where they are. Chunked bodies are validated on the way; for an HTTP/1.0 client they can be de-chunked.
/// </summary>
internal struct BodyFramer
{
    private ChunkedDecoder _chunks;
    private long _remaining;

    public BodyKind Kind { get; private set; }

    /// <summary>True when only chunk data is forwarded (an HTTP/1.0 client cannot read chunked coding).</summary>
    public bool Dechunk { get; private set; }

    public bool IsDone { get; private set; }

    /// <summary>Body bytes received so far (chunk data only, for chunked bodies).</summary>
    public long BodyBytes { get; private set; }

    /// <param name="kind">How the body is framed.</param>
    /// <param name="length">Its length, for <see cref="BodyKind.Length"/>.</param>
    /// <param name="dechunk">True to forward only the chunk data (for an HTTP/1.0 client).</param>
    /// <param name="trailers">Where the trailer fields of a chunked body go (the message's trailers), or null.</param>
    public void Start(BodyKind kind, long length = 0, bool dechunk = false, PluginProxy.Abstractions.Http.HttpHeaders? trailers = null)
    {
        Kind = kind;
        _remaining = length;
        _chunks.Reset(trailers);
        Dechunk = dechunk;
        BodyBytes = 0;
        IsDone = kind == BodyKind.None || (kind == BodyKind.Length && length == 0);
    }

    /// <summary>
    /// Takes the next part of the body from <paramref name="input"/>: <paramref name="consumed"/> bytes belong to the
    /// body, of which <paramref name="forward"/> are to be sent on (all of them, unless de-chunking).
    /// </summary>
    public HttpParseError Next(ReadOnlySpan<byte> input, out int consumed, out Range forward)
    {
        consumed = 0;
        forward = default;
        switch (Kind)
        {
            case BodyKind.Length:
                int take = (int)Math.Min(_remaining, input.Length);
                _remaining -= take;
                BodyBytes += take;
                consumed = take;
                forward = new Range(0, take);
                IsDone = _remaining == 0;
                return HttpParseError.None;
            case BodyKind.UntilClose:
                consumed = input.Length;
                BodyBytes += input.Length;
                forward = new Range(0, input.Length);
                return HttpParseError.None;
            case BodyKind.Chunked when !Dechunk:
                // Forward the coding as it came: run the decoder over the input only to find the end and validate.
                while (consumed < input.Length && !_chunks.IsDone)
                {
                    HttpParseError error = _chunks.Advance(input[consumed..], out int used, out _);
                    consumed += used;
                    if (error != HttpParseError.None)
                    {
                        return error;
                    }
                }

                BodyBytes = _chunks.DataBytes;
                forward = new Range(0, consumed);
                IsDone = _chunks.IsDone;
                return HttpParseError.None;
            case BodyKind.Chunked:
                // De-chunking: stop at each data segment so the caller forwards just the data.
                HttpParseError result = _chunks.Advance(input, out consumed, out Range data);
                forward = data;
                BodyBytes = _chunks.DataBytes;
                IsDone = _chunks.IsDone;
                return result;
            default:
                IsDone = true;
                return HttpParseError.None;
        }
    }

    /// <summary>Called when the source closed: true if that ends the body properly (only for a read-until-close body).</summary>
    public bool EndOfInput()
    {
        if (Kind == BodyKind.UntilClose)
        {
            IsDone = true;
        }

        return IsDone;
    }
}
