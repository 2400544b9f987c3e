namespace PluginProxy.Abstractions.Http;

/// <summary>
/// The HTTP message of a stream, whatever the version on the wire: the request head and body, then the response head
/// and body. The codec of each side produces and consumes it (HTTP/1.1 today); the http supervisor attaches it to
/// <see cref="ProxyStream.Http"/>, and analyzers, scripts, routing and the access log work on it only.
/// </summary>
public sealed class HttpExchange
{
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
}
