namespace PluginProxy.Abstractions;

/// <summary>
/// A host name pattern as routes write it (<c>host</c>, <c>sni</c>): <c>api.example.com</c>, or <c>*.example.com</c>
/// for any subdomain. Shared by the plugins that route by name (http by <c>host</c> and <c>sni</c>, tcp by <c>sni</c>).
/// </summary>
public static class HostPattern
{
    /// <summary>
    /// True when <paramref name="pattern"/> is a host name or a <c>*.</c> wildcard: not empty, no port, no path, and a
    /// <c>*</c> only as the whole first label.
    /// </summary>
    public static bool IsValid(string pattern) =>
        pattern.Length > 0 && !pattern.Contains(':') && !pattern.Contains('/') && pattern.IndexOf('*', 1) < 0
        && (pattern[0] != '*' || pattern.StartsWith("*.", StringComparison.Ordinal));

    /// <summary>What is wrong with route key <paramref name="key"/> (<c>host</c>, <c>sni</c>) set to <paramref name="pattern"/>, or null when it is a valid pattern.</summary>
    public static string? Problem(string key, string pattern) => IsValid(pattern) ? null
        : $"route `{key}` \"{pattern}\" is not a host name; write \"api.example.com\", or \"*.example.com\" for any subdomain (no port, no path)";

    /// <summary>
    /// True when <paramref name="name"/> matches <paramref name="pattern"/>: equal ignoring case (a trailing dot of the
    /// name aside), or, for a pattern <c>*.example.com</c>, any name ending in <c>.example.com</c> with at least one label
    /// before it. A null or empty name matches nothing.
    /// </summary>
    public static bool Matches(string pattern, string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return false;
        }

        ReadOnlySpan<char> candidate = name.AsSpan().TrimEnd('.');
        return pattern.StartsWith("*.", StringComparison.Ordinal)
            ? candidate.Length > pattern.Length - 1 && candidate.EndsWith(pattern.AsSpan(1), StringComparison.OrdinalIgnoreCase)
            : candidate.Equals(pattern, StringComparison.OrdinalIgnoreCase);
    }
}
