using System.Text;
using PluginProxy.Abstractions.Http;
using PluginProxy.Http.Codec.H2;

namespace PluginProxy.Http.Engine.H2;

/// <summary>
/// Collects the decoded fields of one header block, checks them as RFC 9113 §8.2–8.3 requires of a request (or of
/// trailers), and loads them into an <see cref="HttpRequestHead"/> or <see cref="HttpHeaders"/> as a view over one byte
/// array made for the stream. One builder per connection, reused block after block by the reader loop.
/// </summary>
/// <remarks>
/// What is malformed (a stream error PROTOCOL_ERROR): a name with uppercase letters or characters outside a token; a value
/// with NUL, CR or LF, or starting or ending with a space or tab; a pseudo-field other than <c>:method</c>,
/// <c>:scheme</c>, <c>:path</c> and <c>:authority</c>, twice, after a regular field, or in trailers; a missing
/// <c>:method</c>; for CONNECT a <c>:scheme</c> or <c>:path</c> or no <c>:authority</c>, otherwise no <c>:scheme</c> or
/// <c>:path</c>; a scheme other than http or https; a <c>:path</c> not starting with '/' (only OPTIONS may use '*') or
/// holding other than visible ASCII; an authority with userinfo; a connection-specific field; <c>te</c> other than
/// "trailers"; a Host field naming another authority than <c>:authority</c>; an invalid or inconsistent content-length,
/// or one above 0 on a request that ends with its head. Several <c>cookie</c> fields are joined into one with "; " (§8.2.3),
/// and a <c>host</c> field is made from <c>:authority</c> when the client sent none, so the message reads the same as an
/// HTTP/1.1 one.
/// </remarks>
internal sealed class Http2HeadBuilder
{
    private readonly List<(int NameStart, int NameLength, int ValueStart, int ValueLength)> _fields = [];
    private byte[] _bytes = new byte[512];
    private int _length;
    private Range _method;
    private Range _scheme;
    private Range _path;
    private Range _authority;
    private int _pseudoSeen;
    private bool _regularSeen;
    private bool _trailers;
    private int _host;
    private int _cookies;
    private long? _contentLength;

    /// <summary>Why the block is malformed, or null.</summary>
    public string? Error { get; private set; }

    /// <summary>Forgets the previous block; <paramref name="trailers"/> when the block holds trailers (no pseudo-fields allowed).</summary>
    public void Begin(bool trailers)
    {
        _fields.Clear();
        _length = 0;
        _pseudoSeen = 0;
        _regularSeen = false;
        _trailers = trailers;
        _host = -1;
        _cookies = 0;
        _contentLength = null;
        Error = null;
        if (_bytes.Length > 64 * 1024)
        {
            _bytes = new byte[512];
        }
    }

    /// <summary>One decoded field (called by <see cref="Http2HeadSink"/>).</summary>
    public void Add(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        if (Error is not null)
        {
            return;
        }

        if (!CheckValue(value))
        {
            Error = "field value with NUL, CR, LF or surrounding whitespace";
            return;
        }

        if (name.Length > 0 && name[0] == ':')
        {
            AddPseudo(name, value);
            return;
        }

        _regularSeen = true;
        if (!CheckName(name))
        {
            Error = name.ContainsAnyInRange((byte)'A', (byte)'Z') ? "uppercase field name" : "invalid field name";
            return;
        }

        if (Http2FieldList.IsConnectionSpecific(name))
        {
            Error = "connection-specific field";
            return;
        }

        if (name.SequenceEqual("te"u8) && !Ascii.EqualsIgnoreCase(value, "trailers"u8))
        {
            Error = "te other than \"trailers\"";
            return;
        }

        if (name.SequenceEqual("content-length"u8) && !AddContentLength(value))
        {
            return;
        }

        Range n = Store(name);
        Range v = Store(value);
        if (name.SequenceEqual("host"u8))
        {
            _host = _fields.Count;
        }
        else if (name.SequenceEqual("cookie"u8))
        {
            _cookies++;
        }

        _fields.Add((n.Start.Value, name.Length, v.Start.Value, value.Length));
    }

    /// <summary>Checks the request pseudo-fields once the block is decoded; the reason it is malformed, or null.</summary>
    public string? CheckRequest(bool endStream)
    {
        if (Error is not null)
        {
            return Error;
        }

        if ((_pseudoSeen & 1) == 0)
        {
            return "no :method";
        }

        ReadOnlySpan<byte> method = Span(_method);
        bool connect = method.SequenceEqual("CONNECT"u8);
        if (connect)
        {
            if ((_pseudoSeen & (2 | 4)) != 0 || (_pseudoSeen & 8) == 0)
            {
                return "CONNECT needs :authority and no :scheme or :path";
            }
        }
        else
        {
            if ((_pseudoSeen & (2 | 4)) != (2 | 4))
            {
                return "no :scheme or no :path";
            }

            ReadOnlySpan<byte> scheme = Span(_scheme);
            if (!scheme.SequenceEqual("http"u8) && !scheme.SequenceEqual("https"u8))
            {
                return "scheme other than http or https";
            }

            ReadOnlySpan<byte> path = Span(_path);
            bool asterisk = path.SequenceEqual("*"u8) && method.SequenceEqual("OPTIONS"u8);
            if (path.IsEmpty || (path[0] != '/' && !asterisk) || path.IndexOfAnyExceptInRange((byte)0x21, (byte)0x7E) >= 0)
            {
                return "invalid :path";
            }
        }

        if (method.IsEmpty || !CheckToken(method))
        {
            return "invalid :method";
        }

        if ((_pseudoSeen & 8) != 0)
        {
            ReadOnlySpan<byte> authority = Span(_authority);
            if (authority.IsEmpty || authority.Contains((byte)'@') || authority.IndexOfAnyExceptInRange((byte)0x21, (byte)0x7E) >= 0)
            {
                return "invalid :authority";
            }

            if (_host >= 0 && !Ascii.EqualsIgnoreCase(FieldValue(_host), authority))
            {
                return "host differs from :authority";
            }
        }

        return endStream && _contentLength > 0 ? "content-length above 0 on a request without data" : null;
    }

    /// <summary>Loads the checked request into <paramref name="head"/>: a view over a byte array made for the stream.</summary>
    /// <param name="head">The head to load.</param>
    /// <param name="endStream">True when the request ends with its head.</param>
    /// <param name="bytes">The array the head becomes a view over: reused when large enough, else replaced.</param>
    public void LoadRequest(HttpRequestHead head, bool endStream, ref byte[] bytes)
    {
        int hostName = -1;
        if (_host < 0 && (_pseudoSeen & 8) != 0)
        {
            hostName = Store("host"u8).Start.Value;
        }

        (int NameStart, int ValueStart, int ValueLength) cookie = _cookies > 1 ? JoinCookies() : default;
        if (bytes.Length < _length)
        {
            bytes = new byte[Math.Max(_length, 256)];
        }

        _bytes.AsSpan(0, _length).CopyTo(bytes);
        byte[] source = bytes;
        bool connect = Span(_method).SequenceEqual("CONNECT"u8);
        head.Reset(source, _method, connect ? _authority : _path, HttpProtocol.Http2, _contentLength, !endStream,
            tls: Span(_scheme).SequenceEqual("https"u8));
        if (hostName >= 0)
        {
            head.Headers.AddReceived(hostName, 4, _authority.Start.Value, _authority.End.Value - _authority.Start.Value);
        }

        AddFields(head.Headers, cookie);
    }

    /// <summary>The checked trailers as header fields, over a byte array made for them.</summary>
    public HttpHeaders LoadTrailers()
    {
        (int NameStart, int ValueStart, int ValueLength) cookie = _cookies > 1 ? JoinCookies() : default;
        var headers = new HttpHeaders();
        headers.Reset(_bytes.AsSpan(0, _length).ToArray());
        AddFields(headers, cookie);
        return headers;
    }

    private void AddFields(HttpHeaders headers, (int NameStart, int ValueStart, int ValueLength) cookie)
    {
        bool cookieDone = false;
        foreach ((int nameStart, int nameLength, int valueStart, int valueLength) in _fields)
        {
            if (_cookies > 1 && _bytes.AsSpan(nameStart, nameLength).SequenceEqual("cookie"u8))
            {
                if (!cookieDone)
                {
                    headers.AddReceived(cookie.NameStart, 6, cookie.ValueStart, cookie.ValueLength);
                    cookieDone = true;
                }

                continue;
            }

            headers.AddReceived(nameStart, nameLength, valueStart, valueLength);
        }
    }

    private (int NameStart, int ValueStart, int ValueLength) JoinCookies()
    {
        int nameStart = Store("cookie"u8).Start.Value;
        int valueStart = _length;
        foreach ((int ns, int nl, int vs, int vl) in _fields)
        {
            if (_bytes.AsSpan(ns, nl).SequenceEqual("cookie"u8))
            {
                if (_length > valueStart)
                {
                    Store("; "u8);
                }

                Reserve(vl);
                _bytes.AsSpan(vs, vl).CopyTo(_bytes.AsSpan(_length));
                _length += vl;
            }
        }

        return (nameStart, valueStart, _length - valueStart);
    }

    private void AddPseudo(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        if (_trailers)
        {
            Error = "pseudo-field in trailers";
            return;
        }

        if (_regularSeen)
        {
            Error = "pseudo-field after a regular field";
            return;
        }

        int bit = name switch
        {
            _ when name.SequenceEqual(":method"u8) => 1,
            _ when name.SequenceEqual(":scheme"u8) => 2,
            _ when name.SequenceEqual(":path"u8) => 4,
            _ when name.SequenceEqual(":authority"u8) => 8,
            _ => 0,
        };
        if (bit == 0)
        {
            Error = "unknown pseudo-field";
            return;
        }

        if ((_pseudoSeen & bit) != 0)
        {
            Error = "repeated pseudo-field";
            return;
        }

        _pseudoSeen |= bit;
        Range stored = Store(value);
        switch (bit)
        {
            case 1: _method = stored; break;
            case 2: _scheme = stored; break;
            case 4: _path = stored; break;
            default: _authority = stored; break;
        }
    }

    private bool AddContentLength(ReadOnlySpan<byte> value)
    {
        long parsed = 0;
        if (value.IsEmpty || value.Length > 18 || value.IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0)
        {
            Error = "invalid content-length";
            return false;
        }

        foreach (byte digit in value)
        {
            parsed = (parsed * 10) + (digit - '0');
        }

        if (_contentLength is long known && known != parsed)
        {
            Error = "conflicting content-length";
            return false;
        }

        _contentLength = parsed;
        return true;
    }

    private static bool CheckValue(ReadOnlySpan<byte> value)
    {
        if (value.IndexOfAny((byte)0, (byte)'\r', (byte)'\n') >= 0)
        {
            return false;
        }

        return value.IsEmpty || (value[0] is not ((byte)' ' or (byte)'\t') && value[^1] is not ((byte)' ' or (byte)'\t'));
    }

    private static bool CheckName(ReadOnlySpan<byte> name)
        => !name.IsEmpty && !name.ContainsAnyInRange((byte)'A', (byte)'Z') && CheckToken(name);

    private static bool CheckToken(ReadOnlySpan<byte> token)
    {
        foreach (byte b in token)
        {
            if (!HttpSyntax.IsTokenChar((char)b))
            {
                return false;
            }
        }

        return true;
    }

    private ReadOnlySpan<byte> Span(Range range) => _bytes.AsSpan(range);

    private ReadOnlySpan<byte> FieldValue(int index) => _bytes.AsSpan(_fields[index].ValueStart, _fields[index].ValueLength);

    private Range Store(ReadOnlySpan<byte> bytes)
    {
        Reserve(bytes.Length);
        int start = _length;
        bytes.CopyTo(_bytes.AsSpan(_length));
        _length += bytes.Length;
        return start.._length;
    }

    private void Reserve(int more)
    {
        if (_length + more > _bytes.Length)
        {
            Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, _length + more));
        }
    }
}
