using PluginProxy.Abstractions.Http;

namespace PluginProxy.Http.Codec.H1;

/// <summary>Where one header field lies in the received head.</summary>
internal struct HeaderRange
{
    public int NameStart;
    public int NameLength;
    public int ValueStart;
    public int ValueLength;
}

/// <summary>
/// What parsing a message head found: header positions, version, framing and connection facts. One instance per
/// direction per connection, reset for each message, so parsing allocates nothing.
/// </summary>
internal abstract class HeadFacts
{
    public HeaderRange[] Headers = new HeaderRange[32];
    public int HeaderCount;
    public Range[] ConnectionTokens = new Range[8];
    public int ConnectionTokenCount;

    /// <summary>Bytes from the start of the data through the CRLF that ends the head.</summary>
    public int HeadLength;

    /// <summary>Where the search for the end of the head resumes when more data arrives.</summary>
    public int ScanPosition;

    /// <summary>True once the first line (request line or status line) has been received whole.</summary>
    public bool FirstLineComplete;

    public HttpProtocol Version;
    public long ContentLength;
    public bool HasTransferEncoding;
    public bool Chunked;
    public bool ConnectionClose;
    public bool ConnectionKeepAlive;
    public bool ConnectionUpgrade;
    public bool HasUpgradeHeader;

    /// <summary>True when the sender asked to close the connection after this message (or spoke HTTP/1.0 without keep-alive).</summary>
    public bool WantsClose => ConnectionClose || (Version == HttpProtocol.Http10 && !ConnectionKeepAlive);

    // Transfer-Encoding bookkeeping while parsing.
    internal bool ChunkedSeen;
    internal bool LastCodingIsChunked;
    internal bool UnknownCoding;

    public virtual void Reset()
    {
        HeaderCount = 0;
        ConnectionTokenCount = 0;
        HeadLength = 0;
        ScanPosition = 0;
        FirstLineComplete = false;
        Version = HttpProtocol.Http11;
        ContentLength = -1;
        HasTransferEncoding = false;
        Chunked = false;
        ConnectionClose = false;
        ConnectionKeepAlive = false;
        ConnectionUpgrade = false;
        HasUpgradeHeader = false;
        ChunkedSeen = false;
        LastCodingIsChunked = false;
        UnknownCoding = false;
    }

    public void AddHeader(int nameStart, int nameLength, int valueStart, int valueLength)
    {
        if (HeaderCount == Headers.Length)
        {
            Array.Resize(ref Headers, Headers.Length * 2);
        }

        Headers[HeaderCount++] = new HeaderRange { NameStart = nameStart, NameLength = nameLength, ValueStart = valueStart, ValueLength = valueLength };
    }

    /// <summary>
    /// Gives the received fields to the SDK view of the head (its source is a copy of the same bytes). The value of field
    /// <paramref name="replacedIndex"/>, if any, is taken from <paramref name="replacement"/> instead, a range of the same source.
    /// </summary>
    public void CopyHeadersTo(PluginProxy.Abstractions.Http.HttpHeaders headers, int replacedIndex = -1, Range replacement = default)
    {
        for (int i = 0; i < HeaderCount; i++)
        {
            HeaderRange h = Headers[i];
            if (i == replacedIndex)
            {
                headers.AddReceived(h.NameStart, h.NameLength, replacement.Start.Value, replacement.End.Value - replacement.Start.Value);
            }
            else
            {
                headers.AddReceived(h.NameStart, h.NameLength, h.ValueStart, h.ValueLength);
            }
        }
    }

    public void AddConnectionToken(Range token)
    {
        if (ConnectionTokenCount == ConnectionTokens.Length)
        {
            Array.Resize(ref ConnectionTokens, ConnectionTokens.Length * 2);
        }

        ConnectionTokens[ConnectionTokenCount++] = token;
    }
}

/// <summary>What parsing a request head found.</summary>
internal sealed class RequestFacts : HeadFacts
{
    public Range Method;
    public Range Target;

    /// <summary>Empty lines skipped before the request line (allowed after a previous request's body).</summary>
    public int Lead;
    public bool ExpectContinue;
    public int HostCount;
    public Range Host;

    /// <summary>True when an HTTP/1.1 client asks to switch protocols (<c>Connection: upgrade</c> with an <c>Upgrade</c> field).</summary>
    public bool IsUpgrade => HasUpgradeHeader && ConnectionUpgrade && Version == HttpProtocol.Http11;

    /// <summary>True when a body follows the head (chunked, or a non-zero Content-Length).</summary>
    public bool HasBody => Chunked || ContentLength > 0;

    /// <summary>The index of the Host field among <see cref="HeadFacts.Headers"/>, or -1.</summary>
    public int HostIndex = -1;

    /// <summary>True for an absolute-form target (<c>http://authority/path</c>).</summary>
    public bool AbsoluteForm;

    /// <summary>The authority of an absolute-form target (empty otherwise).</summary>
    public Range Authority;

    /// <summary>Where the path of the target starts, as received; it ends where the query starts.</summary>
    public int PathStart;

    /// <summary>Where the query (with its '?') starts, or the end of the target when there is none. Never normalised.</summary>
    public int QueryStart;

    /// <summary>True when the normalised path differs from the received one: it is in <see cref="NormalizedPath"/>.</summary>
    public bool PathRewritten;

    /// <summary>Holds the normalised path when <see cref="PathRewritten"/>; reused from request to request.</summary>
    public byte[] NormalizedPath = [];
    public int NormalizedPathLength;

    /// <summary>The query as received, with its '?'.</summary>
    public int QueryLength => Target.End.Value - QueryStart;

    public override void Reset()
    {
        base.Reset();
        Method = default;
        Target = default;
        Lead = 0;
        ExpectContinue = false;
        HostCount = 0;
        Host = default;
        HostIndex = -1;
        AbsoluteForm = false;
        Authority = default;
        PathStart = 0;
        QueryStart = 0;
        PathRewritten = false;
        NormalizedPathLength = 0;
    }

    /// <summary>Records a normalised path that differs from the received one.</summary>
    public void SetNormalizedPath(ReadOnlySpan<byte> path)
    {
        if (NormalizedPath.Length < path.Length)
        {
            NormalizedPath = new byte[Math.Max(path.Length, 128)];
        }

        path.CopyTo(NormalizedPath);
        NormalizedPathLength = path.Length;
        PathRewritten = true;
    }

    /// <summary>
    /// Places the target as it is forwarded, in origin form (the normalised path, then the query as received), in
    /// <paramref name="head"/> (a copy of the received head with room for <see cref="ForwardedTargetRoom"/> bytes after it),
    /// and says where it lies: in the received bytes when they already spell it, else just after the head.
    /// </summary>
    public Range PlaceForwardedTarget(byte[] head)
    {
        if (!PathRewritten)
        {
            return new Range(PathStart, Target.End);
        }

        Span<byte> room = head.AsSpan(HeadLength);
        NormalizedPath.AsSpan(0, NormalizedPathLength).CopyTo(room);
        head.AsSpan(QueryStart, QueryLength).CopyTo(room[NormalizedPathLength..]);
        return new Range(HeadLength, HeadLength + NormalizedPathLength + QueryLength);
    }

    /// <summary>The bytes <see cref="PlaceForwardedTarget"/> needs after the head.</summary>
    public int ForwardedTargetRoom => PathRewritten ? NormalizedPathLength + QueryLength : 0;
}

/// <summary>What parsing a response head found.</summary>
internal sealed class ResponseFacts : HeadFacts
{
    public int Status;
    public Range Reason;

    public override void Reset()
    {
        base.Reset();
        Status = 0;
        Reason = default;
    }
}
