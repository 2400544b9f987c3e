namespace PluginProxy.Host.Admin;

/// <summary>
/// Reads the admin credential of <c>admin_token_file</c>: one line holding a bearer token. The file is refused when it
/// is missing, empty, too short to resist guessing, holds what an Authorization header cannot carry, or can be used by
/// other users of the machine (anyone who can read the token can reload the proxy; anyone who can write it can set it).
/// </summary>
internal static class AdminToken
{
    /// <summary>Below this, a token is guessable; <c>openssl rand -hex 32</c> gives 64 characters.</summary>
    public const int MinimumLength = 16;

    /// <summary>The token in <paramref name="path"/>, or null with <paramref name="problem"/> saying what is wrong and how to fix it.</summary>
    public static string? Read(string path, out string? problem)
    {
        string make = $"openssl rand -hex 32 > {path} && chmod 600 {path}";
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            problem = $"cannot read {path}: {ex.Message}; create it with: {make}";
            return null;
        }

        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & OthersAccess) != 0)
        {
            problem = $"{path} can be used by other users (mode {Convert.ToString((int)File.GetUnixFileMode(path), 8)}): anyone who can read it can reload the proxy; make it private with: chmod 600 {path}";
            return null;
        }

        string token = text.Trim();
        problem = token.Length == 0 ? $"{path} is empty; put a random token in it: {make}"
            : token.Length < MinimumLength ? $"the token in {path} has {token.Length} characters; use at least {MinimumLength} random ones: {make}"
            : !IsBearerToken(token) ? $"the token in {path} must be one line of letters, digits and - . _ ~ + / (then = padding), as an Authorization: Bearer header carries it: {make}"
            : null;
        return problem is null ? token : null;
    }

    private const UnixFileMode OthersAccess = UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>RFC 6750's b64token: what may follow "Bearer " in an Authorization header.</summary>
    private static bool IsBearerToken(string token)
    {
        int end = token.Length;
        while (end > 0 && token[end - 1] == '=')
        {
            end--;
        }

        for (int i = 0; i < end; i++)
        {
            char c = token[i];
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~' or '+' or '/'))
            {
                return false;
            }
        }

        return end > 0;
    }
}
