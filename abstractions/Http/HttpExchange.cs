namespace PluginProxy.Abstractions.Http;

/// <summary>
/// The HTTP side of a stream: the request head, and the response head once received. The http supervisor attaches it
/// to <see cref="ProxyStream.Http"/>; analyzers and scripts read and change it.
/// </summary>
public sealed class HttpExchange
{
    /// <summary>The request head (parsed by the <c>http_lb_req</c> analyzer).</summary>
    public HttpRequestHead Request { get; } = new();

    /// <summary>The response head (parsed by the <c>http_lb_resp</c> analyzer); meaningful once <see cref="HasResponse"/> is true.</summary>
    public HttpResponseHead Response { get; } = new();

    /// <summary>True once the request head was received and parsed.</summary>
    public bool HasRequest { get; set; }

    /// <summary>True once the response head was received and parsed.</summary>
    public bool HasResponse { get; set; }

    /// <summary>True when the client connection is TLS (an https listener).</summary>
    public bool IsTls { get; set; }

    /// <summary>"https" or "http" (the request's <see cref="HttpRequestHead.Scheme"/>).</summary>
    public string Scheme => IsTls ? "https" : "http";
}
