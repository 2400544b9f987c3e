using System.Text;

namespace PluginProxy.Host.Admin;

/// <summary>One answer of the admin endpoint.</summary>
internal sealed record AdminResponse(int Status, string ContentType, byte[] Body)
{
    /// <summary>Extra header fields (Content-Type, Content-Length and Connection are written by the server).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    public static AdminResponse Text(int status, string text, string contentType = "text/plain; charset=utf-8") =>
        new(status, contentType, Encoding.UTF8.GetBytes(text));
}
