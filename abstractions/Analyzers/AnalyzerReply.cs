using System.Text;

namespace PluginProxy.Abstractions;

/// <summary>
/// The answer a flow analyzer gives when it stops a stream. HTTP supervisors send it as a response
/// (status, headers, body); TCP supervisors send <see cref="Body"/> as raw bytes, if any, and close.
/// </summary>
public sealed class AnalyzerReply
{
    /// <summary>Creates a reply.</summary>
    /// <param name="status">The HTTP status code (100–599).</param>
    /// <param name="body">The body, or empty.</param>
    /// <param name="headers">Extra headers (Content-Length and Connection are set by the supervisor).</param>
    public AnalyzerReply(int status, ReadOnlyMemory<byte> body = default, IReadOnlyList<KeyValuePair<string, string>>? headers = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(status, 100);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(status, 599);
        Status = status;
        Body = body;
        Headers = headers ?? [];
    }

    /// <summary>The HTTP status code.</summary>
    public int Status { get; }

    /// <summary>Extra response headers, in order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; }

    /// <summary>The body bytes.</summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>Whether the client connection is closed after the reply. True by default: a stopped stream may have unread request bytes.</summary>
    public bool Close { get; init; } = true;

    /// <summary>A reply with a short text body.</summary>
    public static AnalyzerReply Text(int status, string text, string contentType = "text/plain; charset=utf-8") =>
        new(status, Encoding.UTF8.GetBytes(text), [new("Content-Type", contentType)]);

    /// <summary>A 403 Forbidden reply.</summary>
    public static AnalyzerReply Deny(string reason = "Forbidden\n") => Text(403, reason);

    /// <summary>A redirect (302 by default) to <paramref name="location"/>.</summary>
    public static AnalyzerReply Redirect(string location, int status = 302) =>
        new(status, ReadOnlyMemory<byte>.Empty, [new("Location", location)]);
}
