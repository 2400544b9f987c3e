namespace PluginProxy.Http.Codec.H1;

/// <summary>
/// The one path normalisation of the http supervisor (docs/http.md, "Paths"), so that routes, analyzers, scripts, the
/// <c>uri</c> balance and the server all see the same path, and a route cannot be bypassed by spelling the path another
/// way: escapes of unreserved characters are decoded, the hex of the escapes that stay is upper-cased, repeated
/// slashes are merged and dot-segments removed (RFC 3986 §5.2.4, after decoding, so <c>%2e%2e</c> counts). Nothing is
/// decoded twice: <c>%25</c> stays <c>%25</c>, so <c>%252e</c> stays as it is. What servers could read differently
/// is refused: <c>%2F</c> and <c>%5C</c>, a backslash, <c>%00</c>, a broken escape, <c>..</c> above the root and
/// <c>..;</c>.
/// </summary>
internal static class PathNormalizer
{
    private const byte Slash = (byte)'/';
    private const byte Dot = (byte)'.';
    private const byte Percent = (byte)'%';
    private const byte Backslash = (byte)'\\';
    private const byte Semicolon = (byte)';';

    /// <summary>
    /// True when <paramref name="path"/> may need a change or may be refused: it has an escape, a backslash, two
    /// slashes in a row or a segment starting with a dot. Other paths are already normal, and cost three vectorized scans.
    /// </summary>
    public static bool NeedsWork(ReadOnlySpan<byte> path) =>
        path.IndexOfAny(Percent, Backslash) >= 0 || path.IndexOf("//"u8) >= 0 || path.IndexOf("/."u8) >= 0;

    /// <summary>
    /// Normalises <paramref name="path"/> (starting with '/', without the query) into <paramref name="output"/>, which
    /// must be at least as long: the result is never longer than the path.
    /// </summary>
    public static HttpParseError Normalize(ReadOnlySpan<byte> path, Span<byte> output, out int length)
    {
        length = 0;
        HttpParseError error = Decode(path, output, out int decoded);
        if (error != HttpParseError.None)
        {
            return error;
        }

        return RemoveDotSegments(output[..decoded], out length);
    }

    /// <summary>Decodes the escapes of unreserved characters and upper-cases the others; refuses what must not pass.</summary>
    private static HttpParseError Decode(ReadOnlySpan<byte> path, Span<byte> output, out int length)
    {
        int w = 0;
        for (int r = 0; r < path.Length; r++)
        {
            byte b = path[r];
            if (b == Backslash)
            {
                length = 0;
                return HttpParseError.PathBackslash;
            }

            if (b != Percent)
            {
                output[w++] = b;
                continue;
            }

            int high = r + 2 < path.Length ? HttpChars.HexValue(path[r + 1]) : -1;
            int low = high >= 0 ? HttpChars.HexValue(path[r + 2]) : -1;
            if (low < 0)
            {
                length = 0;
                return HttpParseError.PathPercentInvalid;
            }

            byte value = (byte)(high * 16 + low);
            if (value is 0 or Slash or Backslash)
            {
                length = 0;
                return value == 0 ? HttpParseError.PathEncodedNul : HttpParseError.PathEncodedSeparator;
            }

            if (IsUnreserved(value))
            {
                output[w++] = value;
            }
            else
            {
                output[w++] = Percent;
                output[w++] = UpperHex(high);
                output[w++] = UpperHex(low);
            }

            r += 2;
        }

        length = w;
        return HttpParseError.None;
    }

    /// <summary>
    /// Merges repeated slashes and removes <c>.</c> and <c>..</c> segments, in place: the write position never passes
    /// the read position, so <see cref="Span{T}.CopyTo"/> (which allows overlap) moves each segment safely.
    /// </summary>
    private static HttpParseError RemoveDotSegments(Span<byte> path, out int length)
    {
        length = 0;
        int n = path.Length;
        int w = 0;
        int r = 0;
        while (r < n)
        {
            // path[r] is the slash that starts a segment; repeated slashes collapse into it.
            while (r + 1 < n && path[r + 1] == Slash)
            {
                r++;
            }

            int start = r + 1;
            int next = path[start..].IndexOf(Slash);
            int end = next < 0 ? n : start + next;
            ReadOnlySpan<byte> segment = path[start..end];
            DotKind kind = DotSegment(segment);
            if (kind == DotKind.None)
            {
                path[w++] = Slash;
                segment.CopyTo(path[w..]);
                w += segment.Length;
                r = end;
                continue;
            }

            if (kind == DotKind.Parameters)
            {
                return HttpParseError.PathDotSegmentParameters;
            }

            if (kind == DotKind.Parent)
            {
                if (w == 0)
                {
                    return HttpParseError.PathAboveRoot;
                }

                // Drop the last segment written.
                w = path[..w].LastIndexOf(Slash);
            }

            if (end == n)
            {
                // "/a/." and "/a/b/.." name a directory: "/a/".
                path[w++] = Slash;
            }

            r = end;
        }

        length = w;
        return HttpParseError.None;
    }

    private enum DotKind
    {
        None,
        Current,
        Parent,
        Parameters,
    }

    private static DotKind DotSegment(ReadOnlySpan<byte> segment)
    {
        if (segment.Length == 0 || segment[0] != Dot)
        {
            return DotKind.None;
        }

        int semicolon = segment.IndexOf(Semicolon);
        ReadOnlySpan<byte> name = semicolon < 0 ? segment : segment[..semicolon];
        DotKind kind = name.Length == 1 ? DotKind.Current : name.Length == 2 && name[1] == Dot ? DotKind.Parent : DotKind.None;
        return kind != DotKind.None && semicolon >= 0 ? DotKind.Parameters : kind;
    }

    private static bool IsUnreserved(byte b) =>
        b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9')
            or (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~';

    private static byte UpperHex(int digit) => (byte)(digit < 10 ? '0' + digit : 'A' + digit - 10);
}
