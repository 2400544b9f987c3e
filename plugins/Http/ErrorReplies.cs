using PluginProxy.Abstractions;
using PluginProxy.Http.Forwarding;

namespace PluginProxy.Http;

/// <summary>
/// The replies http_lb_req and http_lb_resp stop a stream with. They are shared instances: the supervisor recognizes
/// them and sends the prebuilt page of <see cref="ErrorPages"/> instead of serializing a reply.
/// </summary>
internal static class ErrorReplies
{
    private static readonly Dictionary<int, AnalyzerReply> Replies =
        new[] { 400, 404, 408, 413, 414, 417, 431, 500, 501, 502, 503, 504, 505 }.ToDictionary(s => s, s => new AnalyzerReply(s) { Close = true });

    public static AnalyzerReply For(int status) => Replies[status];

    public static bool IsErrorReply(AnalyzerReply reply) => Replies.TryGetValue(reply.Status, out AnalyzerReply? known) && ReferenceEquals(known, reply);
}
