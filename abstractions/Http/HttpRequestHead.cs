using System.Text;

namespace PluginProxy.Abstractions.Http;

/// <summary>
/// The head of an HTTP request as the client sent it, with the changes analyzers made (path, query, headers).
/// Strings are made on first use; a request no analyzer looks at costs no allocation.
/// </summary>
/// <remarks>
/// The http supervisor gives analyzers the target in origin form with its path normalised once (escapes of unreserved
/// characters decoded, dot-segments removed, slashes merged; see docs/http.md), and for an absolute-form target a Host
/// field holding the target's authority, so analyzers, routes and the server all see one spelling of the request.
/// </remarks>
public sealed class HttpRequestHead
{
    private byte[] _source = [];
    private Range _method;
    private Range _target;
    private string? _methodText;
    private string? _path;
    private string? _query;
    private string? _host;
    private bool _hostRead;

    /// <summary>The header fields.</summary>
    public HttpHeaders Headers { get; } = new();

    /// <summary>The HTTP version the client spoke.</summary>
    public HttpProtocol Version { get; private set; }

    /// <summary>The method as received: GET, POST, ...</summary>
    public string Method => _methodText ??= KnownHeaderNames.Method(_source.AsSpan(_method));

    /// <summary>The method bytes as received.</summary>
    public ReadOnlySpan<byte> RawMethod => _source.AsSpan(_method);

    /// <summary>
    /// The request-target bytes as the supervisor passes them on. The http supervisor gives the origin form with the
    /// path normalised (what the server receives unless an analyzer changes it), not necessarily the bytes the client
    /// sent: match on these, or on <see cref="Path"/>, never on a spelling of your own.
    /// </summary>
    public ReadOnlySpan<byte> RawTarget => _source.AsSpan(_target);

    /// <summary>The request-target as forwarded: the path and query (origin form, for the http supervisor whatever form the client used), or <c>*</c>.</summary>
    public string Target => TargetChanged ? _path + _query : Encoding.ASCII.GetString(RawTarget);

    /// <summary>True once an analyzer changed <see cref="Path"/> or <see cref="Query"/>.</summary>
    public bool TargetChanged { get; private set; }

    /// <summary>
    /// The path: the request-target up to <c>?</c>, normalised by the http supervisor (docs/http.md). Setting it rewrites
    /// the request; a path set here is forwarded as set, not normalised again.
    /// </summary>
    public string Path
    {
        get
        {
            SplitTarget();
            return _path!;
        }

        set
        {
            ArgumentException.ThrowIfNullOrEmpty(value);
            if (value[0] != '/' || !value.All(HttpSyntax.IsTargetChar) || value.Contains('?'))
            {
                throw new ArgumentException($"\"{value}\" is not a valid path: it must start with '/' and hold only visible ASCII characters other than '?'", nameof(value));
            }

            SplitTarget();
            _path = value;
            TargetChanged = true;
        }
    }

    /// <summary>The query with its leading <c>?</c>, or an empty string. Setting it rewrites the request.</summary>
    public string Query
    {
        get
        {
            SplitTarget();
            return _query!;
        }

        set
        {
            value ??= "";
            if ((value.Length > 0 && value[0] != '?') || !value.All(HttpSyntax.IsTargetChar))
            {
                throw new ArgumentException($"\"{value}\" is not a valid query: it must be empty or start with '?', with visible ASCII only", nameof(value));
            }

            SplitTarget();
            _query = value;
            TargetChanged = true;
        }
    }

    /// <summary>
    /// The scheme of the request, <c>"https"</c> or <c>"http"</c>: how the client reached the proxy (HTTP/1.1 carries it in
    /// the connection, HTTP/2 in <c>:scheme</c>).
    /// </summary>
    public string Scheme { get; private set; } = "http";

    /// <summary>
    /// The authority the request is for (host and optional port), whatever the version: the target's authority in
    /// absolute form, else the Host field in HTTP/1, <c>:authority</c> in HTTP/2; null when absent. Same as <see cref="Host"/>.
    /// </summary>
    public string? Authority => Host;

    /// <summary>The host the request is for: the authority of an absolute-form target (which the http supervisor also puts in Host), else the Host header; null when absent.</summary>
    public string? Host
    {
        get
        {
            if (!_hostRead)
            {
                _hostRead = true;
                _host = AbsoluteAuthority() ?? Headers.Get("Host");
            }

            return _host;
        }
    }

    /// <summary>The Content-Length the request declared, or null.</summary>
    public long? ContentLength { get; private set; }

    /// <summary>
    /// True when a body follows the head, whatever frames it on the wire (a Content-Length, chunked coding in HTTP/1.1,
    /// DATA frames in HTTP/2). Its length is <see cref="ContentLength"/> when declared.
    /// </summary>
    public bool HasBody { get; private set; }

    /// <summary>
    /// For codecs: loads a newly decoded head. <paramref name="source"/> holds the head bytes for as long as the stream
    /// lasts. How the body and the connection are managed on the wire (chunked coding, <c>Connection</c>, upgrades,
    /// <c>Expect</c>) stays with the codec of that version: the message says only whether a body follows and its length.
    /// </summary>
    public void Reset(byte[] source, Range method, Range target, HttpProtocol version, long? contentLength, bool hasBody, bool tls = false)
    {
        Scheme = tls ? "https" : "http";
        _source = source;
        _method = method;
        _target = target;
        Version = version;
        ContentLength = contentLength;
        HasBody = hasBody;
        _methodText = null;
        _path = null;
        _query = null;
        _host = null;
        _hostRead = false;
        TargetChanged = false;
        Headers.Reset(source);
    }

    private void SplitTarget()
    {
        if (_path is not null)
        {
            return;
        }

        ReadOnlySpan<byte> target = RawTarget;
        int pathStart = 0;
        if (target.Length > 0 && target[0] != '/' && target.IndexOf("://"u8) is int scheme and > 0)
        {
            int slash = target[(scheme + 3)..].IndexOf((byte)'/');
            pathStart = slash < 0 ? target.Length : scheme + 3 + slash;
        }

        ReadOnlySpan<byte> rest = target[pathStart..];
        int question = rest.IndexOf((byte)'?');
        ReadOnlySpan<byte> path = question < 0 ? rest : rest[..question];
        _path = path.IsEmpty ? "/" : Encoding.ASCII.GetString(path);
        _query = question < 0 ? "" : Encoding.ASCII.GetString(rest[question..]);
    }

    private string? AbsoluteAuthority()
    {
        ReadOnlySpan<byte> target = RawTarget;
        if (target.Length == 0 || target[0] == '/' || target.IndexOf("://"u8) is not (int scheme and > 0))
        {
            return null;
        }

        ReadOnlySpan<byte> authority = target[(scheme + 3)..];
        int end = authority.IndexOfAny((byte)'/', (byte)'?');
        return Encoding.ASCII.GetString(end < 0 ? authority : authority[..end]);
    }
}
