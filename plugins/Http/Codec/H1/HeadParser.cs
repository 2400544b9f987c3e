using System.Text;
using PluginProxy.Abstractions.Http;
using static PluginProxy.Http.Codec.H1.HttpChars;

namespace PluginProxy.Http.Codec.H1;

/// <summary>The outcome of parsing a head.</summary>
internal enum ParseStatus
{
    /// <summary>The head is not complete yet; call again with more data.</summary>
    Incomplete,

    /// <summary>The head is complete and valid.</summary>
    Complete,

    /// <summary>The head is invalid.</summary>
    Error,
}

/// <summary>
/// Parses HTTP/1.1 request and response heads strictly (RFC 9110/9112), allocating nothing: every line must end with
/// CRLF (a bare LF is refused, as the safest reading), no obsolete line folding, no control bytes, and every framing
/// ambiguity that could smuggle a request is an error.
/// </summary>
internal static class HeadParser
{
    /// <summary>The most header fields in one head.</summary>
    public const int MaxHeaders = 100;

    /// <summary>Empty lines accepted before a request line (RFC 9112 §2.2 asks servers to ignore at least one).</summary>
    private const int MaxLeadingEmptyLines = 4;

    public static ParseStatus ParseRequest(ReadOnlySpan<byte> data, RequestFacts facts, out HttpParseError error)
    {
        error = HttpParseError.None;
        if (facts.ScanPosition == 0)
        {
            int lead = 0;
            while (lead + 1 < data.Length && data[lead] == CR && data[lead + 1] == LF && lead < 2 * MaxLeadingEmptyLines)
            {
                lead += 2;
            }

            if (lead < data.Length && data[lead] == LF)
            {
                error = HttpParseError.BareLf;
                return ParseStatus.Error;
            }

            if (lead + 1 >= data.Length && (data.Length == lead || data[lead] == CR))
            {
                // Nothing but empty lines (or half of one) so far.
                return ParseStatus.Incomplete;
            }

            facts.Lead = lead;
            facts.ScanPosition = lead;
        }

        ParseStatus found = FindEnd(data, facts, out error);
        if (found != ParseStatus.Complete)
        {
            return found;
        }

        ReadOnlySpan<byte> head = data[..facts.HeadLength];
        int lineEnd = head[facts.Lead..].IndexOf(LF) + facts.Lead - 1;
        error = ParseRequestLine(head, facts.Lead, lineEnd, facts);
        if (error != HttpParseError.None)
        {
            return ParseStatus.Error;
        }

        error = ParseHeaderLines(head, lineEnd + 2, facts, isRequest: true);
        if (error == HttpParseError.None)
        {
            error = FieldRules.CheckRequestSemantics(facts);
        }

        return error == HttpParseError.None ? ParseStatus.Complete : ParseStatus.Error;
    }

    public static ParseStatus ParseResponse(ReadOnlySpan<byte> data, ResponseFacts facts, out HttpParseError error)
    {
        ParseStatus found = FindEnd(data, facts, out error);
        if (found != ParseStatus.Complete)
        {
            return found;
        }

        ReadOnlySpan<byte> head = data[..facts.HeadLength];
        int lineEnd = head.IndexOf(LF) - 1;
        error = ParseStatusLine(head[..lineEnd], facts);
        if (error != HttpParseError.None)
        {
            return ParseStatus.Error;
        }

        error = ParseHeaderLines(head, lineEnd + 2, facts, isRequest: false);
        if (error == HttpParseError.None)
        {
            error = FieldRules.CheckFraming(facts);
        }

        return error == HttpParseError.None ? ParseStatus.Complete : ParseStatus.Error;
    }

    /// <summary>Finds the empty line that ends the head, refusing a bare LF as soon as it arrives.</summary>
    private static ParseStatus FindEnd(ReadOnlySpan<byte> data, HeadFacts facts, out HttpParseError error)
    {
        error = HttpParseError.None;
        int p = facts.ScanPosition;
        int firstLine = p;
        while (true)
        {
            int offset = data[p..].IndexOf(LF);
            if (offset < 0)
            {
                facts.ScanPosition = p;
                return ParseStatus.Incomplete;
            }

            int lf = p + offset;
            if (lf == 0 || data[lf - 1] != CR)
            {
                error = HttpParseError.BareLf;
                return ParseStatus.Error;
            }

            if (lf - 1 == p)
            {
                if (!facts.FirstLineComplete)
                {
                    error = facts is RequestFacts ? HttpParseError.RequestLineMalformed : HttpParseError.StatusLineMalformed;
                    return ParseStatus.Error;
                }

                facts.HeadLength = lf + 1;
                facts.ScanPosition = lf + 1;
                return ParseStatus.Complete;
            }

            if (p == firstLine && !facts.FirstLineComplete)
            {
                facts.FirstLineComplete = true;
            }

            p = lf + 1;
        }
    }

    private static HttpParseError ParseRequestLine(ReadOnlySpan<byte> head, int start, int end, RequestFacts facts)
    {
        ReadOnlySpan<byte> line = head[start..end];
        int sp1 = line.IndexOf(SP);
        if (sp1 <= 0)
        {
            return line.IndexOfAnyExcept(Token) is int bad and >= 0 && line[bad] == CR ? HttpParseError.BareCr : HttpParseError.RequestLineMalformed;
        }

        ReadOnlySpan<byte> method = line[..sp1];
        if (method.IndexOfAnyExcept(Token) >= 0)
        {
            return HttpParseError.MethodInvalid;
        }

        ReadOnlySpan<byte> rest = line[(sp1 + 1)..];
        int sp2 = rest.IndexOf(SP);
        if (sp2 <= 0)
        {
            return HttpParseError.RequestLineMalformed;
        }

        ReadOnlySpan<byte> target = rest[..sp2];
        if (target.IndexOfAnyExcept(HttpChars.Target) is int badTarget and >= 0)
        {
            return target[badTarget] == CR ? HttpParseError.BareCr : HttpParseError.TargetInvalid;
        }

        ReadOnlySpan<byte> version = rest[(sp2 + 1)..];
        if (version.SequenceEqual("HTTP/1.1"u8))
        {
            facts.Version = HttpProtocol.Http11;
        }
        else if (version.SequenceEqual("HTTP/1.0"u8))
        {
            facts.Version = HttpProtocol.Http10;
        }
        else if (version.Length == 8 && version.StartsWith("HTTP/"u8) && version[5] is >= (byte)'2' and <= (byte)'9' && version[6] == '.' && char.IsAsciiDigit((char)version[7]))
        {
            return HttpParseError.VersionNotSupported;
        }
        else
        {
            return version.IndexOf(SP) >= 0 ? HttpParseError.RequestLineMalformed
                : version.IndexOf(CR) >= 0 ? HttpParseError.BareCr
                : HttpParseError.VersionInvalid;
        }

        if (method.SequenceEqual("CONNECT"u8))
        {
            return HttpParseError.MethodNotSupported;
        }

        facts.Method = new Range(start, start + sp1);
        facts.Target = new Range(start + sp1 + 1, start + sp1 + 1 + sp2);
        return TargetParser.Parse(head, facts.Target.Start.Value, facts.Target.End.Value, asteriskAllowed: method.SequenceEqual("OPTIONS"u8), facts);
    }

    private static HttpParseError ParseStatusLine(ReadOnlySpan<byte> line, ResponseFacts facts)
    {
        if (line.Length < 12 || !line.StartsWith("HTTP/1."u8) || line[7] is not ((byte)'0' or (byte)'1') || line[8] != SP
            || line.Slice(9, 3).IndexOfAnyExcept(Digits) >= 0 || (line.Length > 12 && line[12] != SP))
        {
            return line.IndexOf(CR) >= 0 ? HttpParseError.BareCr : HttpParseError.StatusLineMalformed;
        }

        int status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
        if (status < 100)
        {
            return HttpParseError.StatusLineMalformed;
        }

        ReadOnlySpan<byte> reason = line.Length > 12 ? line[13..] : [];
        if (reason.IndexOfAny(InvalidInValue) is int bad and >= 0)
        {
            return reason[bad] == CR ? HttpParseError.BareCr : HttpParseError.StatusLineMalformed;
        }

        facts.Version = line[7] == '1' ? HttpProtocol.Http11 : HttpProtocol.Http10;
        facts.Status = status;
        facts.Reason = line.Length > 12 ? new Range(13, line.Length) : new Range(12, 12);
        return HttpParseError.None;
    }

    /// <summary>Parses the field lines from <paramref name="start"/> to the end of the head.</summary>
    private static HttpParseError ParseHeaderLines(ReadOnlySpan<byte> head, int start, HeadFacts facts, bool isRequest)
    {
        int p = start;
        while (true)
        {
            int lf = head[p..].IndexOf(LF) + p;
            int lineEnd = lf - 1;
            if (lineEnd == p)
            {
                return HttpParseError.None;
            }

            if (facts.HeaderCount >= MaxHeaders)
            {
                return HttpParseError.TooManyHeaders;
            }

            HttpParseError error = ParseFieldLine(head[p..lineEnd], out int nameLength, out int valueOffset, out int valueLength);
            if (error != HttpParseError.None)
            {
                return error;
            }

            facts.AddHeader(p, nameLength, p + valueOffset, valueLength);
            error = FieldRules.Interpret(head, p, nameLength, p + nameLength + 1, lineEnd, p + valueOffset, valueLength, facts, isRequest);
            if (error != HttpParseError.None)
            {
                return error;
            }

            p = lf + 1;
        }
    }

    /// <summary>Validates one <c>name: value</c> line (without its CRLF). Used for heads and chunked trailers.</summary>
    public static HttpParseError ParseFieldLine(ReadOnlySpan<byte> line, out int nameLength, out int valueOffset, out int valueLength)
    {
        nameLength = valueOffset = valueLength = 0;
        if (IsOws(line[0]))
        {
            return HttpParseError.ObsFold;
        }

        int colon = line.IndexOf(Colon);
        ReadOnlySpan<byte> name = colon < 0 ? line : line[..colon];
        if (name.IndexOfAnyExcept(Token) is int bad and >= 0)
        {
            return name[bad] switch
            {
                SP or HTAB => colon < 0 ? HttpParseError.HeaderNoColon : HttpParseError.HeaderNameWhitespace,
                CR => HttpParseError.BareCr,
                _ => HttpParseError.HeaderNameInvalid,
            };
        }

        if (colon < 0)
        {
            return HttpParseError.HeaderNoColon;
        }

        if (colon == 0)
        {
            return HttpParseError.HeaderNameEmpty;
        }

        ReadOnlySpan<byte> raw = line[(colon + 1)..];
        if (raw.IndexOfAny(InvalidInValue) is int badValue and >= 0)
        {
            return raw[badValue] == CR ? HttpParseError.BareCr : HttpParseError.HeaderValueInvalid;
        }

        int start = 0;
        int end = raw.Length;
        while (start < end && IsOws(raw[start]))
        {
            start++;
        }

        while (end > start && IsOws(raw[end - 1]))
        {
            end--;
        }

        nameLength = colon;
        valueOffset = colon + 1 + start;
        valueLength = end - start;
        return HttpParseError.None;
    }
}
