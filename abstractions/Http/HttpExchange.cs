namespace PluginProxy.Abstractions.Http;

/// <summary>
/// The HTTP message of a stream, whatever the version on the wire: the request head and body, then the response head
/// and body. The codec of each side produces and consumes it (HTTP/1.1 today); the http supervisor attaches it to
/// <see cref="ProxyStream.Http"/>, and analyzers, scripts, routing and the access log work on it only.
/// </summary>
public sealed class HttpExchange
{
    private IResponseBodyFilter? _responseBodyFilter;

    /// <summary>The request head, decoded before the request analyzers run.</summary>
    public HttpRequestHead Request { get; } = new();

    /// <summary>The request body: its declared length, what went through, trailers, end of message.</summary>
    public HttpBody RequestBody { get; } = new();

    /// <summary>The response head; meaningful once <see cref="HasResponse"/> is true.</summary>
    public HttpResponseHead Response { get; } = new();

    /// <summary>The response body.</summary>
    public HttpBody ResponseBody { get; } = new();

    /// <summary>True once the request head was received and decoded.</summary>
    public bool HasRequest { get; set; }

    /// <summary>True once a final response head (status 200 or more) was received and decoded, or the proxy made one.</summary>
    public bool HasResponse { get; set; }

    /// <summary>True when the client connection is TLS (an https listener).</summary>
    public bool IsTls { get; set; }

    /// <summary>"https" or "http" (the request's <see cref="HttpRequestHead.Scheme"/>).</summary>
    public string Scheme => IsTls ? "https" : "http";

    /// <summary>The filter the response body goes through on its way to the client, or null (the body is relayed as received).</summary>
    public IResponseBodyFilter? ResponseBodyFilter => _responseBodyFilter;

    /// <summary>
    /// Installs <paramref name="filter"/> on the response body (null removes the one installed), from a response analyzer,
    /// before the body goes out; the supervisor then relays the body through it (see <see cref="IResponseBodyFilter"/>) and
    /// disposes it when the stream ends. A filter replaced by another is disposed now.
    /// </summary>
    public void SetResponseBodyFilter(IResponseBodyFilter? filter)
    {
        IResponseBodyFilter? previous = _responseBodyFilter;
        _responseBodyFilter = filter;
        if (previous is not null && !ReferenceEquals(previous, filter))
        {
            previous.Dispose();
        }
    }

    /// <summary>For supervisors: takes the installed response body filter (it is theirs to dispose), leaving none.</summary>
    public IResponseBodyFilter? TakeResponseBodyFilter()
    {
        IResponseBodyFilter? filter = _responseBodyFilter;
        _responseBodyFilter = null;
        return filter;
    }
}
