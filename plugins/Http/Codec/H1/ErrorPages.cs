using System.Text;
using PluginProxy.Abstractions;

namespace PluginProxy.Http.Codec.H1;

/// <summary>
/// The proxy's own responses (400, 404, 408, 502, 503, 504, ...), built once as bytes: sending one allocates nothing.
/// Each has a small HTML body; the variant with <c>Connection: close</c> is sent when the connection ends after it.
/// </summary>
internal static class ErrorPages
{
    private static readonly Dictionary<int, (byte[] KeepAlive, byte[] Close)> Pages = Build();

    private static readonly Dictionary<int, AnalyzerReply> Replies = Pages.Keys.ToDictionary(s => s, s => new AnalyzerReply(s,
        Encoding.ASCII.GetBytes(Body(s)), [new("Content-Type", "text/html"), new("Cache-Control", "no-cache")]) { Close = false });

    public static string Reason(int status) => status switch
    {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        414 => "URI Too Long",
        417 => "Expectation Failed",
        421 => "Misdirected Request",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    };

    private static string Explanation(int status) => status switch
    {
        400 => "The request is malformed or ambiguous and was not forwarded.",
        403 => "The request was denied.",
        404 => "No route matches this request.",
        408 => "The request did not arrive in time.",
        413 => "The request body is larger than allowed.",
        414 => "The request line is too long.",
        417 => "The expectation in the request cannot be met.",
        431 => "The request headers are too large.",
        500 => "The proxy failed while handling the request.",
        501 => "The request uses a method or transfer coding this proxy does not support.",
        502 => "The server's response was invalid, or the server could not be reached.",
        503 => "No server is available to handle this request.",
        504 => "The server did not answer in time.",
        505 => "This HTTP version is not supported.",
        _ => "",
    };

    private static Dictionary<int, (byte[], byte[])> Build()
    {
        var pages = new Dictionary<int, (byte[], byte[])>();
        foreach (int status in new[] { 400, 403, 404, 408, 413, 414, 417, 431, 500, 501, 502, 503, 504, 505 })
        {
            string body = Body(status);
            pages[status] = (Render(status, body, close: false), Render(status, body, close: true));
        }

        return pages;
    }

    private static string Body(int status) => $"<html><body><h1>{status} {Reason(status)}</h1>\n{Explanation(status)}\n</body></html>\n";

    private static byte[] Render(int status, string body, bool close) => Encoding.ASCII.GetBytes(
        $"HTTP/1.1 {status} {Reason(status)}\r\nContent-Type: text/html\r\nContent-Length: {body.Length}\r\n" +
        $"Cache-Control: no-cache\r\nConnection: {(close ? "close" : "keep-alive")}\r\n\r\n{body}");

    /// <summary>The whole response for <paramref name="status"/>.</summary>
    public static byte[] Get(int status, bool close)
    {
        (byte[] keepAlive, byte[] closing) = Pages.TryGetValue(status, out var page) ? page : Pages[status >= 500 ? 500 : 400];
        return close ? closing : keepAlive;
    }

    /// <summary>The page for <paramref name="status"/> as a reply, for after_response_analyzers to change before it is sent.</summary>
    public static AnalyzerReply Reply(int status) => Replies.TryGetValue(status, out AnalyzerReply? reply) ? reply : Replies[status >= 500 ? 500 : 400];

    /// <summary>The length of the body of the response for <paramref name="status"/>.</summary>
    public static int BodyLength(int status)
    {
        byte[] page = Get(status, close: true);
        return page.Length - (page.AsSpan().IndexOf("\r\n\r\n"u8) + 4);
    }
}
