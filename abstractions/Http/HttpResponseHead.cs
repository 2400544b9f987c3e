using System.Text;

namespace PluginProxy.Abstractions.Http;

/// <summary>The head of an HTTP response as the server sent it, with the changes analyzers made (status, reason, headers).</summary>
public sealed class HttpResponseHead
{
    private byte[] _source = [];
    private Range _reason;
    private string? _reasonText;
    private int _status;

    /// <summary>The header fields.</summary>
    public HttpHeaders Headers { get; } = new();

    /// <summary>The HTTP version the server spoke.</summary>
    public HttpProtocol Version { get; private set; }

    /// <summary>The status code. Analyzers may change it (a 1xx, 204 or 304 status cannot be set on a response with a body).</summary>
    public int Status
    {
        get => _status;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 200);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 599);
            if (_status != value)
            {
                _status = value;
                StatusChanged = true;
                _reasonText ??= "";
            }
        }
    }

    /// <summary>True once an analyzer changed <see cref="Status"/> or <see cref="Reason"/>.</summary>
    public bool StatusChanged { get; private set; }

    /// <summary>The reason phrase bytes as received.</summary>
    public ReadOnlySpan<byte> RawReason => _source.AsSpan(_reason);

    /// <summary>The reason phrase.</summary>
    public string Reason
    {
        get => _reasonText ??= Encoding.Latin1.GetString(RawReason);
        set
        {
            foreach (char c in value)
            {
                if (c is '\r' or '\n' or '\0' || c > 0xFF)
                {
                    throw new ArgumentException("a reason phrase may not hold CR, LF, NUL or non-Latin-1 characters", nameof(value));
                }
            }

            _reasonText = value;
            StatusChanged = true;
        }
    }

    /// <summary>The Content-Length the response declared, or null.</summary>
    public long? ContentLength { get; private set; }

    /// <summary>
    /// For codecs: loads a newly decoded head. How the body is framed on the wire (chunked coding, connection close)
    /// stays with the codec: the message says only its declared length.
    /// </summary>
    public void Reset(byte[] source, int status, Range reason, HttpProtocol version, long? contentLength)
    {
        _source = source;
        _status = status;
        _reason = reason;
        _reasonText = null;
        Version = version;
        ContentLength = contentLength;
        StatusChanged = false;
        Headers.Reset(source);
    }
}
