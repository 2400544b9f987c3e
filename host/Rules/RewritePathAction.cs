using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;

namespace PluginProxy.Host.Rules;

/// <summary>
/// <c>rewrite_path = { from_prefix, to }</c> (request rules): a path starting with <c>from_prefix</c> has that start
/// replaced by <c>to</c>; the query stays. Another path is left as it is.
/// </summary>
internal sealed class RewritePathAction(string fromPrefix, string to) : RuleAction
{
    public override AnalyzerReply? Apply(in RuleInput input)
    {
        HttpRequestHead request = input.Http.Request;
        MessageText.Path(request, out ReadOnlySpan<byte> raw, out string? changed);
        bool starts = changed is null
            ? raw.Length >= fromPrefix.Length && MessageText.Equal(raw[..fromPrefix.Length], fromPrefix)
            : changed.StartsWith(fromPrefix, StringComparison.Ordinal);
        if (starts)
        {
            string path = request.Path;
            request.Path = to + path[fromPrefix.Length..];
        }

        return null;
    }
}
