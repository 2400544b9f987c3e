using PluginProxy.Abstractions;
using PluginProxy.Http.Codec.H1;

namespace PluginProxy.Http;

/// <summary>
/// The replies this plugin's own analyzers stop a stream with. They are shared instances: the supervisor recognizes them,
/// records why (for the log line) and sends the prebuilt page of <see cref="ErrorPages"/> instead of serializing a reply.
/// </summary>
internal static class ErrorReplies
{
    private static readonly int[] Statuses = [400, 404, 408, 413, 414, 417, 431, 500, 501, 502, 503, 504, 505];

    private static readonly Dictionary<int, AnalyzerReply> Replies = Statuses.ToDictionary(s => s, s => new AnalyzerReply(s) { Close = true });

    private static readonly Dictionary<AnalyzerReply, string?> Details = new(ReferenceEqualityComparer.Instance);

    private static readonly Dictionary<HttpParseError, AnalyzerReply> ForErrors = BuildErrorReplies();

    public static AnalyzerReply For(int status) => Replies[status];

    /// <summary>The reply for a request that breaks a rule, with the rule's description for the log.</summary>
    public static AnalyzerReply For(HttpParseError error) => ForErrors[error];

    /// <summary>True when <paramref name="reply"/> is one of these; <paramref name="detail"/> then says why, when known.</summary>
    public static bool IsErrorReply(AnalyzerReply reply, out string? detail)
    {
        if (Details.TryGetValue(reply, out detail))
        {
            return true;
        }

        detail = null;
        return Replies.TryGetValue(reply.Status, out AnalyzerReply? known) && ReferenceEquals(known, reply);
    }

    private static Dictionary<HttpParseError, AnalyzerReply> BuildErrorReplies()
    {
        var replies = new Dictionary<HttpParseError, AnalyzerReply>();
        foreach (HttpParseError error in Enum.GetValues<HttpParseError>())
        {
            var reply = new AnalyzerReply(error == HttpParseError.None ? 500 : HttpParseErrors.RequestStatus(error)) { Close = true };
            replies[error] = reply;
            Details[reply] = HttpParseErrors.Describe(error);
        }

        return replies;
    }
}
