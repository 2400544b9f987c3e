using System.Security.Cryptography;
using System.Text;

namespace PluginProxy.Host.Admin;

/// <summary>
/// Who may do what on the admin endpoint. Reading (GET and HEAD: the dashboard, metrics, JSON stats, health) is open
/// to whoever can reach the address, which is why it belongs on loopback. Anything else may change the proxy's state
/// (reload today; server state and weights later) and needs the admin credential: the bearer token of
/// <c>admin_token_file</c>, sent as <c>Authorization: Bearer &lt;token&gt;</c>. Without a configured token those requests
/// are refused with 403 saying how to enable them. A header, not a cookie or Basic credentials a browser would replay,
/// so a web page the operator visits cannot make the browser reload the proxy.
/// </summary>
internal static class AdminAccess
{
    private const string Realm = "pluginproxy admin";

    /// <summary>True for the methods that only read.</summary>
    public static bool IsReadOnly(string method) => method is "GET" or "HEAD";

    /// <summary>Null when a request that changes state may go on; otherwise the refusal to send.</summary>
    /// <param name="method">The request method.</param>
    /// <param name="path">The request path, for the message.</param>
    /// <param name="authorization">The request's Authorization field, or null.</param>
    /// <param name="token">The configured token, or null when <c>admin_token_file</c> is not set.</param>
    public static AdminResponse? Refusal(string method, string path, string? authorization, string? token)
    {
        if (token is null)
        {
            return AdminResponse.Text(403,
                $"{method} {path} changes the proxy's state and needs the admin credential, which is not configured.\n" +
                "Set `admin_token_file` in [global] to a file holding a random token (openssl rand -hex 32 > admin.token && chmod 600 admin.token),\n" +
                "then send it: curl -X POST -H \"Authorization: Bearer $(cat admin.token)\" http://<admin>/api/reload\n" +
                "(SIGHUP to the proxy process reloads the configuration too.)\n");
        }

        const string Scheme = "Bearer ";
        if (authorization is null || !authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return Unauthorized($"{method} {path} needs the admin token: send Authorization: Bearer <the token in admin_token_file>\n", $"Bearer realm=\"{Realm}\"");
        }

        if (!SameToken(authorization[Scheme.Length..].Trim(), token))
        {
            return Unauthorized("The admin token is wrong.\n", $"Bearer realm=\"{Realm}\", error=\"invalid_token\"");
        }

        return null;
    }

    /// <summary>Compares in constant time: hashing first hides the length, fixed-time equality hides where they differ.</summary>
    private static bool SameToken(string presented, string expected) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));

    private static AdminResponse Unauthorized(string text, string challenge) =>
        AdminResponse.Text(401, text) with { Headers = [new("WWW-Authenticate", challenge)] };
}
