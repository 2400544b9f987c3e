using PluginProxy.Abstractions.Http;

namespace PluginProxy.Host.Rules;

/// <summary><c>path</c>, <c>path_prefix</c>, <c>path_suffix</c>: the normalised path (without the query) against any of the patterns, case-sensitive.</summary>
internal sealed class PathTest(PathMatch match, string[] patterns) : RuleTest
{
    public override bool Holds(in RuleInput input)
    {
        if (input.Request is not { } request)
        {
            return false;
        }

        MessageText.Path(request, out ReadOnlySpan<byte> raw, out string? changed);
        foreach (string pattern in patterns)
        {
            if (changed is null ? Matches(raw, pattern) : Matches(changed, pattern))
            {
                return true;
            }
        }

        return false;
    }

    private bool Matches(ReadOnlySpan<byte> path, string pattern) => match switch
    {
        PathMatch.Exact => MessageText.Equal(path, pattern),
        PathMatch.Prefix => path.Length >= pattern.Length && MessageText.Equal(path[..pattern.Length], pattern),
        _ => path.Length >= pattern.Length && MessageText.Equal(path[^pattern.Length..], pattern),
    };

    private bool Matches(string path, string pattern) => match switch
    {
        PathMatch.Exact => path == pattern,
        PathMatch.Prefix => path.StartsWith(pattern, StringComparison.Ordinal),
        _ => path.EndsWith(pattern, StringComparison.Ordinal),
    };
}
