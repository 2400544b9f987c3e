using System.Text;
using PluginProxy.Abstractions.Http;
using static PluginProxy.Http.Codec.H1.HttpChars;

namespace PluginProxy.Http.Codec.H1;

/// <summary>
/// What the framing and connection fields of a head mean (RFC 9110, RFC 9112 §6): Connection tokens, Content-Length,
/// Transfer-Encoding, and the checks that refuse an ambiguous message. The parser finds the fields; these rules read them.
/// </summary>
internal static class FieldRules
{
    /// <summary>Records what the framing and connection headers say.</summary>
    internal static HttpParseError Interpret(ReadOnlySpan<byte> head, int nameStart, int nameLength, int rawValueStart, int rawValueEnd,
        int valueStart, int valueLength, HeadFacts facts, bool isRequest)
    {
        ReadOnlySpan<byte> name = head.Slice(nameStart, nameLength);
        ReadOnlySpan<byte> value = head.Slice(valueStart, valueLength);
        switch (nameLength)
        {
            case 4 when isRequest && Ascii.EqualsIgnoreCase(name, "Host"u8):
                var request = (RequestFacts)facts;
                request.HostCount++;
                request.HostIndex = facts.HeaderCount - 1;
                request.Host = new Range(valueStart, valueStart + valueLength);
                return value.IndexOfAnyExcept(Authority) >= 0 ? HttpParseError.HostInvalid : HttpParseError.None;
            case 6 when isRequest && Ascii.EqualsIgnoreCase(name, "Expect"u8):
                if (!Ascii.EqualsIgnoreCase(value, "100-continue"u8))
                {
                    return HttpParseError.ExpectationUnsupported;
                }

                ((RequestFacts)facts).ExpectContinue = true;
                return HttpParseError.None;
            case 7 when Ascii.EqualsIgnoreCase(name, "Upgrade"u8):
                // An upgrade to h2c only (curl --http2 on http://) is declined, as RFC 9113 §3.1 lets a server do: the
                // request is served as HTTP/1.1, and Upgrade and HTTP2-Settings go no further (HTTP/2 clients with prior
                // knowledge are served on the same port).
                facts.HasUpgradeHeader |= !(isRequest && Ascii.EqualsIgnoreCase(value, "h2c"u8));
                return HttpParseError.None;
            case 10 when Ascii.EqualsIgnoreCase(name, "Connection"u8):
                ReadConnectionTokens(head, valueStart, valueLength, facts);
                return HttpParseError.None;
            case 14 when Ascii.EqualsIgnoreCase(name, "Content-Length"u8):
                return ReadContentLength(head[rawValueStart..rawValueEnd], facts);
            case 17 when Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8):
                facts.HasTransferEncoding = true;
                return ReadTransferCodings(head[rawValueStart..rawValueEnd], facts);
            default:
                return HttpParseError.None;
        }
    }

    private static void ReadConnectionTokens(ReadOnlySpan<byte> head, int valueStart, int valueLength, HeadFacts facts)
    {
        int p = valueStart;
        int end = valueStart + valueLength;
        while (p < end)
        {
            int comma = head[p..end].IndexOf((byte)',');
            int elementEnd = comma < 0 ? end : p + comma;
            int s = p;
            int e = elementEnd;
            while (s < e && IsOws(head[s]))
            {
                s++;
            }

            while (e > s && IsOws(head[e - 1]))
            {
                e--;
            }

            ReadOnlySpan<byte> token = head[s..e];
            if (token.Length > 0 && token.IndexOfAnyExcept(Token) < 0)
            {
                if (Ascii.EqualsIgnoreCase(token, "close"u8))
                {
                    facts.ConnectionClose = true;
                }
                else if (Ascii.EqualsIgnoreCase(token, "keep-alive"u8))
                {
                    facts.ConnectionKeepAlive = true;
                }
                else if (Ascii.EqualsIgnoreCase(token, "upgrade"u8))
                {
                    facts.ConnectionUpgrade = true;
                }
                else
                {
                    facts.AddConnectionToken(new Range(s, e));
                }
            }

            p = elementEnd + 1;
        }
    }

    /// <summary>
    /// <c>1*DIGIT</c>, or a comma-separated list of identical ones; no sign, no tab, nothing empty. Several fields must agree.
    /// </summary>
    private static HttpParseError ReadContentLength(ReadOnlySpan<byte> raw, HeadFacts facts)
    {
        if (raw.IndexOf(HTAB) >= 0)
        {
            return HttpParseError.ContentLengthInvalid;
        }

        ReadOnlySpan<byte> rest = raw;
        bool any = false;
        while (true)
        {
            int comma = rest.IndexOf((byte)',');
            ReadOnlySpan<byte> element = TrimOws(comma < 0 ? rest : rest[..comma]);
            if (element.IsEmpty || element.IndexOfAnyExcept(Digits) >= 0)
            {
                return HttpParseError.ContentLengthInvalid;
            }

            long value = 0;
            foreach (byte digit in element)
            {
                if (value > (long.MaxValue - 9) / 10)
                {
                    return HttpParseError.ContentLengthOverflow;
                }

                value = value * 10 + (digit - '0');
            }

            if (facts.ContentLength >= 0 && facts.ContentLength != value)
            {
                return HttpParseError.ContentLengthConflict;
            }

            facts.ContentLength = value;
            any = true;
            if (comma < 0)
            {
                return any ? HttpParseError.None : HttpParseError.ContentLengthInvalid;
            }

            rest = rest[(comma + 1)..];
        }
    }

    /// <summary>A comma-separated list of plain tokens: no empty element, no quotes, parameters or tabs (obfuscation).</summary>
    private static HttpParseError ReadTransferCodings(ReadOnlySpan<byte> raw, HeadFacts facts)
    {
        if (raw.IndexOf(HTAB) >= 0)
        {
            return HttpParseError.TransferEncodingInvalid;
        }

        ReadOnlySpan<byte> rest = raw;
        while (true)
        {
            int comma = rest.IndexOf((byte)',');
            ReadOnlySpan<byte> coding = TrimOws(comma < 0 ? rest : rest[..comma]);
            if (coding.IsEmpty || coding.IndexOfAnyExcept(Token) >= 0)
            {
                return HttpParseError.TransferEncodingInvalid;
            }

            if (Ascii.EqualsIgnoreCase(coding, "chunked"u8))
            {
                if (facts.ChunkedSeen)
                {
                    return HttpParseError.TransferEncodingChunkedTwice;
                }

                facts.ChunkedSeen = true;
                facts.LastCodingIsChunked = true;
            }
            else
            {
                facts.LastCodingIsChunked = false;
                if (!IsKnownCoding(coding))
                {
                    facts.UnknownCoding = true;
                }
            }

            if (comma < 0)
            {
                return HttpParseError.None;
            }

            rest = rest[(comma + 1)..];
        }
    }

    private static bool IsKnownCoding(ReadOnlySpan<byte> coding) =>
        Ascii.EqualsIgnoreCase(coding, "gzip"u8) || Ascii.EqualsIgnoreCase(coding, "x-gzip"u8) ||
        Ascii.EqualsIgnoreCase(coding, "deflate"u8) || Ascii.EqualsIgnoreCase(coding, "compress"u8) ||
        Ascii.EqualsIgnoreCase(coding, "x-compress"u8);

    internal static HttpParseError CheckRequestSemantics(RequestFacts facts)
    {
        if (facts.HostCount > 1)
        {
            return HttpParseError.HostDuplicate;
        }

        if (facts.HostCount == 0 && facts.Version == HttpProtocol.Http11)
        {
            return HttpParseError.HostMissing;
        }

        return CheckFraming(facts);
    }

    internal static HttpParseError CheckFraming(HeadFacts facts)
    {
        if (!facts.HasTransferEncoding)
        {
            return HttpParseError.None;
        }

        if (facts.ContentLength >= 0)
        {
            return HttpParseError.ContentLengthWithTransferEncoding;
        }

        if (facts.Version == HttpProtocol.Http10)
        {
            return HttpParseError.TransferEncodingOnHttp10;
        }

        if (facts.UnknownCoding)
        {
            return HttpParseError.TransferEncodingUnknown;
        }

        if (!facts.LastCodingIsChunked)
        {
            return HttpParseError.TransferEncodingNotChunkedLast;
        }

        facts.Chunked = true;
        return HttpParseError.None;
    }
}
