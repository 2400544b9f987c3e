using PluginProxy.Abstractions;

namespace MyPlugin;

/// <summary>A request analyzer: requests for /private/... are answered 403 and never reach a server.</summary>
public sealed class PrivatePaths : IFlowAnalyzer
{
    public ChannelDirection? Direction => ChannelDirection.Request;

    public ValueTask<AnalyzerVerdict> AnalyzeAsync(ProxyStream stream, Channel channel, CancellationToken cancellationToken)
    {
        string path = stream.Http!.Request.Path;
        return ValueTask.FromResult(path.StartsWith("/private/", StringComparison.Ordinal)
            ? AnalyzerVerdict.Stop(AnalyzerReply.Deny())
            : AnalyzerVerdict.Continue);
    }
}
