using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;
using PluginProxy.Http.Parsing;

namespace PluginProxy.Http;

/// <summary>
/// <c>http_lb_resp</c>: waits for the whole response head and parses it with the same strictness as requests; a response
/// that is malformed or ambiguous becomes a 502 and is never passed on.
/// </summary>
public sealed class HttpLbResp : IFlowAnalyzer
{
    /// <inheritdoc/>
    public ChannelDirection? Direction => ChannelDirection.Response;

    /// <inheritdoc/>
    public ValueTask<AnalyzerVerdict> AnalyzeAsync(ProxyStream stream, Channel channel, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Analyze(stream, channel));

    private static AnalyzerVerdict Analyze(ProxyStream stream, Channel channel)
    {
        if (stream.SupervisorState is not HttpStreamState state)
        {
            return AnalyzerVerdict.Stop(ErrorReplies.For(500));
        }

        if (state.Exchange.HasResponse)
        {
            return AnalyzerVerdict.Continue;
        }

        ResponseFacts facts = state.ResponseFacts;
        ReadOnlySpan<byte> data = channel.Data.Span;
        switch (HeadParser.ParseResponse(data, facts, out HttpParseError error))
        {
            case ParseStatus.Incomplete:
                if (channel.IsFull || channel.InputEnded)
                {
                    return Fail(state, channel.IsFull ? HttpParseError.HeadTooLarge : HttpParseError.Truncated);
                }

                return AnalyzerVerdict.NeedMoreData;
            case ParseStatus.Error:
                return Fail(state, error);
        }

        HttpStreamState.CopyHead(ref state.ResponseHead, data[..facts.HeadLength]);
        HttpResponseHead response = state.Exchange.Response;
        bool wantsClose = facts.ConnectionClose || (facts.Version == HttpProtocol.Http10 && !facts.ConnectionKeepAlive);
        response.Reset(state.ResponseHead, facts.Status, facts.Reason, facts.Version,
            facts.ContentLength >= 0 ? facts.ContentLength : null, facts.Chunked, wantsClose);
        facts.CopyHeadersTo(response.Headers);

        state.Exchange.HasResponse = true;
        return AnalyzerVerdict.Continue;
    }

    private static AnalyzerVerdict Fail(HttpStreamState state, HttpParseError error)
    {
        state.ResponseError = error;
        return AnalyzerVerdict.Stop(ErrorReplies.For(502));
    }
}
