using System.Text;

namespace PluginProxy.Host.Admin;

/// <summary>One answer of the admin endpoint.</summary>
internal sealed record AdminResponse(int Status, string ContentType, byte[] Body)
{
    public static AdminResponse Text(int status, string text, string contentType = "text/plain; charset=utf-8") =>
        new(status, contentType, Encoding.UTF8.GetBytes(text));

    public static string Reason(int status) => status switch
    {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        _ => "Unknown",
    };
}
