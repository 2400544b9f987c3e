namespace PluginProxy.Host.Configuration;

/// <summary>
/// The admin endpoint's credentials in [global], each checked at its key: <c>admin_socket</c> (a Unix socket path) and
/// <c>admin_token_file</c> (the file holding the bearer token, read when the configuration is materialised: a reload reads it again).
/// </summary>
internal static class AdminKeys
{
    /// <summary>The longest <c>admin_socket</c> path: sun_path holds 108 bytes with its NUL, and the socket is first bound
    /// under the path plus a temporary suffix.</summary>
    private const int MaxSocketPath = 107 - 20;

    /// <summary>The absolute socket path, or null when the key is absent or wrong (the error is recorded).</summary>
    public static string? ReadSocket(TableReader table, string baseDirectory)
    {
        if (table.SpottedString("admin_socket", what: "a Unix socket path such as \"/run/pluginproxy/admin.sock\"") is not { } written)
        {
            return null;
        }

        string path = Path.GetFullPath(written.Value, baseDirectory);
        string folder = Path.GetDirectoryName(path)!;
        if (System.Text.Encoding.UTF8.GetByteCount(path) > MaxSocketPath)
        {
            table.Error(written.Spot, $"`admin_socket`: {path} is longer than a Unix socket path may be ({MaxSocketPath} bytes); choose a shorter one, such as /run/pluginproxy/admin.sock");
            return null;
        }

        if (!Directory.Exists(folder))
        {
            table.Error(written.Spot, $"`admin_socket`: the folder {folder} does not exist; create it (writable by the proxy's user) or choose another path");
            return null;
        }

        return path;
    }

    /// <summary>
    /// The absolute path of <c>admin_token_file</c> and where it is written, or null when the key is absent or of no use
    /// (the error is recorded). The file is read when the configuration is materialised (<see cref="ReadToken"/>).
    /// </summary>
    public static (string Path, SourceSpot Spot)? ReadTokenFile(TableReader table, string baseDirectory)
    {
        if (table.SpottedString("admin_token_file", what: "a file holding the admin token, such as \"admin.token\"") is not { } written)
        {
            return null;
        }

        if (!table.Has("admin"))
        {
            table.Error(written.Spot, "`admin_token_file` has no use without `admin`: set `admin` (for example \"127.0.0.1:8404\") or remove it");
            return null;
        }

        return (Path.GetFullPath(written.Value, baseDirectory), written.Spot);
    }

    /// <summary>Reads the token of <c>admin_token_file</c>; a file that cannot be used is reported at the key.</summary>
    public static string? ReadToken((string Path, SourceSpot Spot) file, List<ConfigError> errors)
    {
        string? token = Admin.AdminToken.Read(file.Path, out string? problem);
        if (problem is not null)
        {
            errors.Add(new ConfigError(file.Spot, $"`admin_token_file`: {problem}"));
        }

        return token;
    }

    /// <summary>
    /// The absolute path of <c>server_state_file</c>, or null when the key is absent or wrong (the error is recorded). Its
    /// folder must exist; the file itself is created at the first change.
    /// </summary>
    public static string? ReadServerStateFile(TableReader table, string baseDirectory)
    {
        if (table.SpottedString("server_state_file", what: "a file path such as \"/var/lib/pluginproxy/server-state.json\"") is not { } written)
        {
            return null;
        }

        string path = Path.GetFullPath(written.Value, baseDirectory);
        if (!Directory.Exists(Path.GetDirectoryName(path)))
        {
            table.Error(written.Spot, $"`server_state_file`: the folder {Path.GetDirectoryName(path)} does not exist; create it (writable by the proxy's user) or choose another path");
            return null;
        }

        if (Directory.Exists(path))
        {
            table.Error(written.Spot, $"`server_state_file`: {path} is a folder; name a file in it, such as {Path.Combine(path, "server-state.json")}");
            return null;
        }

        return path;
    }
}
