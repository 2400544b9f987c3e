using System.Text;

namespace PluginProxy.Abstractions.Http;

/// <summary>Returns shared strings for common header names and methods, so reading them allocates nothing.</summary>
internal static class KnownHeaderNames
{
    private static readonly string[] Names =
    [
        "Host", "User-Agent", "Accept", "Accept-Encoding", "Accept-Language", "Connection", "Content-Length",
        "Content-Type", "Cookie", "Set-Cookie", "Authorization", "Cache-Control", "Date", "Server", "Location",
        "Transfer-Encoding", "Upgrade", "Expect", "Referer", "Origin", "X-Forwarded-For", "X-Forwarded-Proto",
        "X-Forwarded-Host", "X-Request-Id", "Keep-Alive", "Vary", "ETag", "Last-Modified", "If-None-Match",
        "If-Modified-Since", "Content-Encoding", "Accept-Ranges", "Range", "Pragma", "Via", "Forwarded",
    ];

    private static readonly string[] Methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE"];

    public static string Get(ReadOnlySpan<byte> name)
    {
        foreach (string known in Names)
        {
            if (known.Length == name.Length && Ascii.Equals(name, known))
            {
                return known;
            }
        }

        return Encoding.Latin1.GetString(name);
    }

    public static string Method(ReadOnlySpan<byte> method)
    {
        foreach (string known in Methods)
        {
            if (known.Length == method.Length && Ascii.Equals(method, known))
            {
                return known;
            }
        }

        return Encoding.Latin1.GetString(method);
    }
}
