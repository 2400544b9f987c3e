using PluginProxy.Abstractions.Http;

namespace PluginProxy.Compression;

/// <summary>
/// Which responses the <c>compress</c> analyzer compresses, and what it changes in their heads. A response is
/// <em>eligible</em> when compressing it would be right for some client: a 200, 201, 202 or 203 to a request other than
/// HEAD, of a listed type, not under the least size, with no <c>Content-Encoding</c> (it is compressed already, or
/// coded some other way), no <c>Content-Range</c> (a part of a representation) and no <c>Cache-Control: no-transform</c>.
/// An eligible response varies by <c>Accept-Encoding</c> whether this client gets it compressed or not.
/// </summary>
internal static class ResponseRules
{
    /// <summary>True when <paramref name="exchange"/>'s response may be compressed for a client that accepts it.</summary>
    public static bool IsEligible(HttpExchange exchange, CompressionSettings settings)
    {
        HttpResponseHead response = exchange.Response;
        HttpHeaders headers = response.Headers;
        return response.Status is 200 or 201 or 202 or 203
            && !exchange.Request.RawMethod.SequenceEqual("HEAD"u8)
            && headers.IndexOf("Content-Encoding"u8) < 0
            && headers.IndexOf("Content-Range"u8) < 0
            && !(response.ContentLength < settings.MinSize)
            && headers.IndexOf("Content-Type"u8) is var type and >= 0 && settings.Compresses(headers.ValueAt(type))
            && !HasToken(headers, "Cache-Control"u8, "no-transform");
    }

    /// <summary>Says that the response depends on <c>Accept-Encoding</c>, unless a <c>Vary</c> field says so already (or says <c>*</c>).</summary>
    public static void AddVary(HttpHeaders headers)
    {
        if (!HasToken(headers, "Vary"u8, "Accept-Encoding") && !HasToken(headers, "Vary"u8, "*"))
        {
            headers.Add("Vary", "Accept-Encoding");
        }
    }

    /// <summary>
    /// The head of a response compressed with <paramref name="coding"/>: its coding; no length (the body's is not known in
    /// advance) and no <c>Accept-Ranges</c> (ranges of the compressed body are not served); a strong <c>ETag</c> made weak,
    /// since the bytes are not those the server validated.
    /// </summary>
    public static void MarkCompressed(HttpHeaders headers, ContentCoding coding)
    {
        headers.Set("Content-Encoding", AcceptEncoding.Name(coding));
        headers.Remove("Content-Length");
        headers.Remove("Accept-Ranges");
        if (headers.IndexOf("ETag"u8) is var etag and >= 0 && headers.ValueAt(etag) is var value && value.StartsWith('"'))
        {
            headers.Set("ETag", "W/" + value);
        }
    }

    /// <summary>True when a field named <paramref name="name"/> lists <paramref name="token"/> (comma-separated, any case, parameters ignored).</summary>
    private static bool HasToken(HttpHeaders headers, ReadOnlySpan<byte> name, string token)
    {
        for (int i = headers.IndexOf(name); i >= 0; i = headers.IndexOf(name, i + 1))
        {
            foreach (string element in headers.ValueAt(i).Split(',', StringSplitOptions.TrimEntries))
            {
                int end = element.IndexOfAny(['=', ';']);
                if ((end < 0 ? element : element[..end].TrimEnd()).Equals(token, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
