using PluginProxy.Abstractions;

namespace PluginProxy.Http;

/// <summary>
/// <c>http_lb_resp</c>: marks where the proxy's own response rules run among the response analyzers. The codec decodes
/// the response head with the same strictness as requests before any analyzer runs (a malformed or ambiguous response
/// becomes a 502 and is never passed on, and interim 1xx heads never reach the analyzers), so today it has nothing left
/// to check and releases the channel at once; listeners that place it keep working unchanged.
/// </summary>
public sealed class HttpLbResp : IFlowAnalyzer
{
    /// <inheritdoc/>
    public ChannelDirection? Direction => ChannelDirection.Response;

    /// <inheritdoc/>
    public ValueTask<AnalyzerVerdict> AnalyzeAsync(ProxyStream stream, Channel channel, CancellationToken cancellationToken) =>
        ValueTask.FromResult(stream.Http is { HasResponse: true }
            ? AnalyzerVerdict.Continue
            : AnalyzerVerdict.Stop(AnalyzerReply.Text(500, "http_lb_resp needs a decoded HTTP response (an http listener)\n")));
}
