using System.Buffers;
using System.Text;

namespace PluginProxy.Http.Codec.H1;

/// <summary>
/// Reads a request-target (RFC 9112 §3.2): origin form (<c>/path?query</c>), absolute form (<c>http://authority/path?query</c>,
/// http and https only) or asterisk form (<c>*</c>, OPTIONS only). Records where the authority, path and query lie, and
/// normalises the path once (<see cref="PathNormalizer"/>), so everything after the parser sees one spelling of it.
/// </summary>
internal static class TargetParser
{
    /// <summary>Paths up to this length are normalised on the stack; longer ones in a pooled buffer.</summary>
    private const int StackPath = 512;

    /// <summary>scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3986 §3.1).</summary>
    private static readonly SearchValues<byte> SchemeChars =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-."u8);

    /// <summary>Parses <paramref name="data"/>[<paramref name="start"/>..<paramref name="end"/>] into <paramref name="facts"/>.</summary>
    public static HttpParseError Parse(ReadOnlySpan<byte> data, int start, int end, bool asteriskAllowed, RequestFacts facts)
    {
        ReadOnlySpan<byte> target = data[start..end];
        if (target.IndexOf((byte)'#') >= 0)
        {
            return HttpParseError.TargetFragment;
        }

        int pathStart;
        if (target[0] == '/')
        {
            pathStart = 0;
        }
        else if (target.Length == 1 && target[0] == '*' && asteriskAllowed)
        {
            // Asterisk form: no path to normalise; routes and analyzers see "*".
            facts.PathStart = start;
            facts.QueryStart = end;
            return HttpParseError.None;
        }
        else
        {
            HttpParseError error = ReadAbsoluteForm(target, out int authorityStart, out pathStart);
            if (error != HttpParseError.None)
            {
                return error;
            }

            facts.AbsoluteForm = true;
            facts.Authority = new Range(start + authorityStart, start + pathStart);
        }

        int question = target[pathStart..].IndexOf((byte)'?');
        int queryStart = question < 0 ? target.Length : pathStart + question;
        facts.PathStart = start + pathStart;
        facts.QueryStart = start + queryStart;
        return NormalizePath(target[pathStart..queryStart], facts);
    }

    /// <summary>
    /// <c>scheme "://" authority [path]</c>: the scheme must be http or https (a reverse proxy serves nothing else), the
    /// authority must not be empty (RFC 9110 §4.2.1) nor carry userinfo (§4.2.4: "treat its presence as an error").
    /// </summary>
    private static HttpParseError ReadAbsoluteForm(ReadOnlySpan<byte> target, out int authorityStart, out int pathStart)
    {
        authorityStart = pathStart = 0;
        int colon = target.IndexOf((byte)':');
        if (colon <= 0 || !IsAsciiLetter(target[0]) || target[..colon].IndexOfAnyExcept(SchemeChars) >= 0)
        {
            return HttpParseError.TargetInvalid;
        }

        ReadOnlySpan<byte> scheme = target[..colon];
        if (!Ascii.EqualsIgnoreCase(scheme, "http"u8) && !Ascii.EqualsIgnoreCase(scheme, "https"u8))
        {
            return HttpParseError.TargetSchemeUnsupported;
        }

        if (!target[(colon + 1)..].StartsWith("//"u8))
        {
            // An http URI always has an authority (RFC 9110 §4.2.1).
            return HttpParseError.TargetInvalid;
        }

        authorityStart = colon + 3;
        int authorityLength = target[authorityStart..].IndexOfAny((byte)'/', (byte)'?');
        if (authorityLength < 0)
        {
            authorityLength = target.Length - authorityStart;
        }

        ReadOnlySpan<byte> authority = target.Slice(authorityStart, authorityLength);
        if (authority.IndexOf((byte)'@') >= 0)
        {
            return HttpParseError.TargetUserinfo;
        }

        if (authority.IsEmpty || authority.IndexOfAnyExcept(HttpChars.Authority) >= 0 || authority[0] == ':')
        {
            return HttpParseError.TargetAuthorityInvalid;
        }

        pathStart = authorityStart + authorityLength;
        return HttpParseError.None;
    }

    /// <summary>
    /// Normalises the path, allocating nothing unless it changes (and then only to grow the facts' reusable buffer).
    /// An absolute-form target without a path gets "/" (RFC 9112 §3.2.1).
    /// </summary>
    private static HttpParseError NormalizePath(ReadOnlySpan<byte> path, RequestFacts facts)
    {
        if (path.IsEmpty)
        {
            facts.SetNormalizedPath("/"u8);
            return HttpParseError.None;
        }

        if (!PathNormalizer.NeedsWork(path))
        {
            return HttpParseError.None;
        }

        byte[]? rented = null;
        Span<byte> scratch = path.Length <= StackPath ? stackalloc byte[StackPath] : (rented = ArrayPool<byte>.Shared.Rent(path.Length));
        try
        {
            HttpParseError error = PathNormalizer.Normalize(path, scratch, out int length);
            if (error == HttpParseError.None && !scratch[..length].SequenceEqual(path))
            {
                facts.SetNormalizedPath(scratch[..length]);
            }

            return error;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static bool IsAsciiLetter(byte b) => b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z');
}
