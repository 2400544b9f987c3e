namespace PluginProxy.Abstractions.Http;

/// <summary>Reads cookies out of a request's <c>Cookie</c> fields (<c>a=1; b=2</c>, RFC 6265 §5.4) without allocating.</summary>
public static class HttpCookies
{
    /// <summary>
    /// Finds the cookie named <paramref name="name"/> (case-sensitive, as cookie names are) in every <c>Cookie</c> field of
    /// <paramref name="headers"/>; the first one wins. The value is a slice of the field's value (surrounding double
    /// quotes are kept, as sent).
    /// </summary>
    /// <returns>True when the request carries the cookie.</returns>
    public static bool TryFind(HttpHeaders headers, ReadOnlySpan<char> name, out ReadOnlySpan<char> value)
    {
        ArgumentNullException.ThrowIfNull(headers);
        for (int i = headers.IndexOf("Cookie"u8); i >= 0; i = headers.IndexOf("Cookie"u8, i + 1))
        {
            if (TryFind(headers.ValueAt(i), name, out value))
            {
                return true;
            }
        }

        value = default;
        return false;
    }

    /// <summary>Finds the cookie named <paramref name="name"/> in one <c>Cookie</c> field value.</summary>
    /// <returns>True when the field holds the cookie.</returns>
    public static bool TryFind(ReadOnlySpan<char> field, ReadOnlySpan<char> name, out ReadOnlySpan<char> value)
    {
        while (!field.IsEmpty)
        {
            int end = field.IndexOf(';');
            ReadOnlySpan<char> pair = (end < 0 ? field : field[..end]).Trim(' ');
            field = end < 0 ? default : field[(end + 1)..];
            int equals = pair.IndexOf('=');
            if (equals > 0 && pair[..equals].TrimEnd(' ').SequenceEqual(name))
            {
                value = pair[(equals + 1)..].TrimStart(' ');
                return true;
            }
        }

        value = default;
        return false;
    }
}
