using System.Globalization;
using PluginProxy.Abstractions.Http;

namespace PluginProxy.Compression;

/// <summary>
/// Reads a request's <c>Accept-Encoding</c> (RFC 9110 §12.5.3) and picks the coding of a response: among the codings
/// the listener offers, the one the client weighs most (<c>q</c>), ties going to the listener's order of preference.
/// <c>q=0</c> refuses a coding; <c>*</c> stands for every coding not named; <c>x-gzip</c> is <c>gzip</c>. A request
/// without the field, or with an empty one, gets no coding.
/// </summary>
internal static class AcceptEncoding
{
    /// <summary>The coding to use for <paramref name="request"/>, or <see cref="ContentCoding.Identity"/>.</summary>
    /// <param name="request">The request head.</param>
    /// <param name="offered">The codings the listener offers, most preferred first.</param>
    public static ContentCoding Choose(HttpRequestHead request, IReadOnlyList<ContentCoding> offered)
    {
        int index = request.Headers.IndexOf("Accept-Encoding"u8);
        if (index < 0)
        {
            return ContentCoding.Identity;
        }

        Span<double> weights = stackalloc double[offered.Count];
        weights.Fill(-1);
        double wildcard = -1;
        for (; index >= 0; index = request.Headers.IndexOf("Accept-Encoding"u8, index + 1))
        {
            foreach (string element in request.Headers.ValueAt(index).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (!TryParse(element, out string coding, out double q))
                {
                    continue;
                }

                if (coding == "*")
                {
                    wildcard = q;
                }
                else if (Coding(coding) is var known and not ContentCoding.Identity && IndexOf(offered, known) is var i and >= 0)
                {
                    weights[i] = q;
                }
            }
        }

        ContentCoding best = ContentCoding.Identity;
        double bestWeight = 0;
        for (int i = 0; i < offered.Count; i++)
        {
            double weight = weights[i] >= 0 ? weights[i] : wildcard;
            if (weight > bestWeight)
            {
                best = offered[i];
                bestWeight = weight;
            }
        }

        return best;
    }

    /// <summary>The coding a name stands for (<c>gzip</c>, <c>x-gzip</c>, <c>br</c>, in any case); Identity for any other.</summary>
    public static ContentCoding Coding(string name) => name.ToLowerInvariant() switch
    {
        "gzip" or "x-gzip" => ContentCoding.Gzip,
        "br" => ContentCoding.Brotli,
        _ => ContentCoding.Identity,
    };

    /// <summary>The name of a coding in <c>Content-Encoding</c>.</summary>
    public static string Name(ContentCoding coding) => coding == ContentCoding.Brotli ? "br" : "gzip";

    /// <summary>One element: a coding and its weight (1 when not given). False when the weight is malformed: the element is ignored.</summary>
    private static bool TryParse(string element, out string coding, out double q)
    {
        q = 1;
        int semicolon = element.IndexOf(';');
        coding = (semicolon < 0 ? element : element[..semicolon]).Trim();
        if (coding.Length == 0)
        {
            return false;
        }

        if (semicolon < 0)
        {
            return true;
        }

        foreach (string parameter in element[(semicolon + 1)..].Split(';', StringSplitOptions.TrimEntries))
        {
            int equals = parameter.IndexOf('=');
            if (equals > 0 && parameter[..equals].Trim().Equals("q", StringComparison.OrdinalIgnoreCase))
            {
                string value = parameter[(equals + 1)..].Trim();
                return value.Length is > 0 and <= 5 && value[0] is '0' or '1'
                    && double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out q) && q <= 1;
            }
        }

        return true;
    }

    private static int IndexOf(IReadOnlyList<ContentCoding> offered, ContentCoding coding)
    {
        for (int i = 0; i < offered.Count; i++)
        {
            if (offered[i] == coding)
            {
                return i;
            }
        }

        return -1;
    }
}
