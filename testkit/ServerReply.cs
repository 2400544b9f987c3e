using System.Globalization;
using System.Text;

namespace PluginProxy.TestKit;

/// <summary>What a <see cref="ScriptedServer"/> answers to a request: bytes sent as they are, then optionally a close.</summary>
public sealed class ServerReply
{
    private ServerReply(byte[] bytes, bool close)
    {
        Bytes = bytes;
        CloseAfter = close;
    }

    /// <summary>The bytes sent.</summary>
    public byte[] Bytes { get; }

    /// <summary>True when the server closes the connection after sending (else it waits for the next request).</summary>
    public bool CloseAfter { get; }

    /// <summary>A <c>200 OK</c> with <paramref name="body"/> as <c>text/plain</c>.</summary>
    public static ServerReply Ok(string body = "") => Status(200, body);

    /// <summary>
    /// An HTTP/1.1 response with <paramref name="status"/>, <paramref name="body"/> (with its Content-Length), a
    /// <c>Content-Type: text/plain</c> unless <paramref name="headers"/> name one, and <paramref name="headers"/>.
    /// </summary>
    public static ServerReply Status(int status, string body = "", params (string Name, string Value)[] headers)
    {
        var head = new StringBuilder();
        head.Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {status} {ReasonOf(status)}\r\n");
        if (!headers.Any(h => h.Name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)) && body.Length > 0)
        {
            head.Append("Content-Type: text/plain\r\n");
        }

        foreach ((string name, string value) in headers)
        {
            head.Append(CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
        }

        byte[] content = Encoding.UTF8.GetBytes(body);
        head.Append(CultureInfo.InvariantCulture, $"Content-Length: {content.Length}\r\n\r\n");
        return new ServerReply([.. Encoding.Latin1.GetBytes(head.ToString()), .. content], close: false);
    }

    /// <summary><paramref name="bytes"/> as they are (a malformed response, a chunked one, a TCP payload).</summary>
    public static ServerReply Raw(byte[] bytes, bool closeAfter = false) => new(bytes, closeAfter);

    /// <summary><paramref name="text"/> as Latin-1 bytes, as they are.</summary>
    public static ServerReply Raw(string text, bool closeAfter = false) => new(Encoding.Latin1.GetBytes(text), closeAfter);

    /// <summary>This reply, then the server closes the connection.</summary>
    public ServerReply ThenClose() => new(Bytes, close: true);

    private static string ReasonOf(int status) => status switch
    {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    };
}
