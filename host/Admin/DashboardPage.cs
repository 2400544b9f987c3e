using System.Reflection;
using System.Security.Cryptography;
using System.Text;

namespace PluginProxy.Host.Admin;

/// <summary>
/// <c>GET /</c>: the dashboard, one self-contained page (<c>dashboard.html</c>, embedded in the assembly, its style and
/// script inline) that polls <c>/api/dashboard</c> every second and calls the runtime API for its buttons. It loads
/// nothing else, and its Content-Security-Policy says so: only its own inline style and script (by hash) run, and it
/// may connect to this endpoint only; it cannot be framed (its buttons act on the proxy).
/// </summary>
internal static class DashboardPage
{
    /// <summary>The resource's name (set in the project file).</summary>
    public const string ResourceName = "PluginProxy.Host.Admin.dashboard.html";

    private static readonly Lazy<(byte[] Body, string Policy)> Page = new(Load);

    public static AdminResponse Render() => new(200, "text/html; charset=utf-8", Page.Value.Body)
    {
        Headers =
        [
            new("Content-Security-Policy", Page.Value.Policy),
            new("X-Content-Type-Options", "nosniff"),
            new("Referrer-Policy", "no-referrer"),
        ],
    };

    private static (byte[] Body, string Policy) Load()
    {
        using Stream stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The assembly lacks its resource {ResourceName}");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string html = reader.ReadToEnd();
        string policy = "default-src 'none'; " +
            $"style-src '{Hash(Inline(html, "style"))}'; script-src '{Hash(Inline(html, "script"))}'; " +
            "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
        return (Encoding.UTF8.GetBytes(html), policy);
    }

    /// <summary>The text of the page's one <paramref name="element"/> (written without attributes).</summary>
    private static string Inline(string html, string element)
    {
        string open = $"<{element}>";
        int start = html.IndexOf(open, StringComparison.Ordinal);
        int end = html.IndexOf($"</{element}>", start + 1, StringComparison.Ordinal);
        if (start < 0 || end < 0)
        {
            throw new InvalidOperationException($"{ResourceName} has no {open} element");
        }

        return html[(start + open.Length)..end];
    }

    private static string Hash(string text) => "sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
