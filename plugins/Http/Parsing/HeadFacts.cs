using PluginProxy.Abstractions.Http;

namespace PluginProxy.Http.Parsing;

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

    public Http1Version Version;
    public long ContentLength;
    public bool HasTransferEncoding;
    public bool Chunked;
    public bool ConnectionClose;
    public bool ConnectionKeepAlive;
    public bool ConnectionUpgrade;
    public bool HasUpgradeHeader;

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
        Version = Http1Version.Http11;
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

    /// <summary>Gives the received fields to the SDK view of the head (its source is a copy of the same bytes).</summary>
    public void CopyHeadersTo(PluginProxy.Abstractions.Http.HttpHeaders headers)
    {
        for (int i = 0; i < HeaderCount; i++)
        {
            HeaderRange h = Headers[i];
            headers.AddReceived(h.NameStart, h.NameLength, h.ValueStart, h.ValueLength);
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

    public override void Reset()
    {
        base.Reset();
        Method = default;
        Target = default;
        Lead = 0;
        ExpectContinue = false;
        HostCount = 0;
        Host = default;
    }
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
