namespace PluginProxy.Abstractions.Http;

/// <summary>
/// One message body as the engine moves it: a sequence of data blocks from the codec of one side to the codec of the
/// other, then the trailers and the end of the message. Whatever frames it on the wire (a Content-Length, chunked coding,
/// DATA frames), analyzers see the same facts here.
/// </summary>
/// <remarks>Data blocks are not kept: once forwarded they are gone, so a body costs no memory for its length.</remarks>
public sealed class HttpBody
{
    private HttpHeaders? _trailers;

    /// <summary>The length the head declared, or null when it is not known in advance.</summary>
    public long? Length { get; private set; }

    /// <summary>The data bytes that went through so far (framing excluded).</summary>
    public long Transferred { get; private set; }

    /// <summary>True once the end of the message was seen (the last data block, then the trailers).</summary>
    public bool IsComplete { get; private set; }

    /// <summary>
    /// The trailer fields, decoded by the codec of the receiving side once the body ended; empty when there are none. They
    /// are known after the analyzers ran (they follow the body): the log phase and stream-end observers see them. An HTTP/1.1
    /// chunked body going to an HTTP/1.1 peer keeps its trailer section on the wire as received.
    /// </summary>
    public HttpHeaders Trailers => _trailers ??= new HttpHeaders();

    /// <summary>True when the message has trailer fields.</summary>
    public bool HasTrailers => _trailers is { Count: > 0 };

    /// <summary>For codecs: a new body of <paramref name="length"/> bytes (null: unknown; 0: none) starts.</summary>
    public void Start(long? length)
    {
        Length = length;
        Transferred = 0;
        IsComplete = length == 0;
        _trailers?.Reset([]);
    }

    /// <summary>For codecs: the total data so far is <paramref name="total"/> bytes.</summary>
    public void SetTransferred(long total) => Transferred = total;

    /// <summary>For codecs: the message ended.</summary>
    public void Complete() => IsComplete = true;
}
