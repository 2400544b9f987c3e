using System.Net;

namespace PluginProxy.Abstractions.Http;

/// <summary>
/// What a typed HTTP phase (<see cref="IHttpRequestFilter"/>, <see cref="IHttpUpstreamSelector"/>,
/// <see cref="IHttpResponseFilter"/>, <see cref="IHttpLogger"/>) sees of its stream: the request and response heads, the
/// session (client address, TLS), the variables the stream's analyzers share and the backend chosen for it.
/// </summary>
/// <remarks>
/// A view over one <see cref="ProxyStream"/>, made for one call (a struct: making one allocates nothing). Do not keep it
/// after the call returns: the supervisor reuses the stream for the next request of the connection.
/// </remarks>
public readonly struct HttpFilterContext
{
    /// <summary>Creates the view of <paramref name="stream"/>, which an HTTP supervisor runs (<see cref="ProxyStream.Http"/> is set).</summary>
    /// <exception cref="ArgumentException">The stream has no HTTP exchange (a tcp listener).</exception>
    public HttpFilterContext(ProxyStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (stream.Http is null)
        {
            throw new ArgumentException("the stream is not run by an HTTP supervisor (ProxyStream.Http is null)", nameof(stream));
        }

        Stream = stream;
    }

    /// <summary>The stream itself, for what this view does not show (its channels, <see cref="ProxyStream.Number"/>).</summary>
    public ProxyStream Stream { get; }

    /// <summary>The client connection the stream belongs to.</summary>
    public ISession Session => Stream.Session;

    /// <summary>The request head: method, authority, path, query, header fields. Changes made here are what the server receives.</summary>
    public HttpRequestHead Request => Stream.Http!.Request;

    /// <summary>True once a response head is there: the server's, or the proxy's own reply seen by an after-response filter.</summary>
    public bool HasResponse => Stream.Http!.HasResponse;

    /// <summary>The response head (status, reason, header fields); meaningful when <see cref="HasResponse"/> is true. Changes made here are what the client receives.</summary>
    public HttpResponseHead Response => Stream.Http!.Response;

    /// <summary>The client's address and port (the one the PROXY header gave, when the listener accepts it).</summary>
    public EndPoint ClientEndPoint => Stream.Session.Connection.ClientEndPoint;

    /// <summary>What the TLS handshake with the client settled (server name, ALPN, version), or null on a plain connection.</summary>
    public TlsInfo? Tls => Stream.Session.Tls;

    /// <summary>Variables shared by the stream's analyzers, phases and scripts, created on first use.</summary>
    public IDictionary<string, object?> Variables => Stream.Variables;

    /// <summary>
    /// The backend the stream goes to: the listener's default, or the route's, until a phase or analyzer changes it.
    /// Setting it before the server is chosen routes the stream (an <see cref="IHttpUpstreamSelector"/> does that).
    /// </summary>
    public IBackend? Backend
    {
        get => Stream.Backend;
        set => Stream.Backend = value;
    }

    /// <summary>The backends of the configuration the session was accepted with, to find one by name.</summary>
    public IBackendCatalog Backends => Stream.Session.Backends;
}
