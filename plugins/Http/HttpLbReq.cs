using System.Text;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;
using PluginProxy.Http.Parsing;

namespace PluginProxy.Http;

/// <summary>
/// <c>http_lb_req</c>: waits for the whole request head, parses and validates it strictly, and routes the stream
/// (the first matching <c>[[listener.route]]</c>, else the listener's backend). Once every request analyzer released the
/// channel, the supervisor connects to a server of the chosen backend.
/// </summary>
public sealed class HttpLbReq : IFlowAnalyzer
{
    /// <inheritdoc/>
    public ChannelDirection? Direction => ChannelDirection.Request;

    /// <inheritdoc/>
    public ValueTask<AnalyzerVerdict> AnalyzeAsync(ProxyStream stream, Channel channel, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Analyze(stream, channel));

    private static AnalyzerVerdict Analyze(ProxyStream stream, Channel channel)
    {
        if (stream.SupervisorState is not HttpStreamState state)
        {
            return AnalyzerVerdict.Stop(ErrorReplies.For(500));
        }

        if (state.Exchange.HasRequest)
        {
            return AnalyzerVerdict.Continue;
        }

        RequestFacts facts = state.RequestFacts;
        ReadOnlySpan<byte> data = channel.Data.Span;
        switch (HeadParser.ParseRequest(data, facts, out HttpParseError error))
        {
            case ParseStatus.Incomplete:
                if (channel.IsFull)
                {
                    return Fail(state, facts.FirstLineComplete ? HttpParseError.HeadTooLarge : HttpParseError.UriTooLong);
                }

                if (channel.InputEnded)
                {
                    state.RequestError = HttpParseError.Truncated;
                    return AnalyzerVerdict.Stop(ErrorReplies.For(400));
                }

                return AnalyzerVerdict.NeedMoreData;
            case ParseStatus.Error:
                return Fail(state, error);
        }

        if (state.MaxRequestBody >= 0 && facts.ContentLength > state.MaxRequestBody)
        {
            return Fail(state, HttpParseError.BodyTooLarge);
        }

        // Analyzers, scripts, routes, the balancer and the server all see the target in origin form with its path
        // normalised (the parser did it once); the received target stays in the head copy for the access log.
        HttpStreamState.CopyHead(ref state.RequestHead, data[..facts.HeadLength], facts.ForwardedTargetRoom);
        byte[] head = state.RequestHead;
        Range target = facts.PlaceForwardedTarget(head);
        HttpRequestHead request = state.Exchange.Request;
        bool wantsClose = facts.ConnectionClose || (facts.Version == HttpProtocol.Http10 && !facts.ConnectionKeepAlive);
        request.Reset(head, facts.Method, target, facts.Version,
            facts.ContentLength >= 0 ? facts.ContentLength : null, facts.Chunked, facts.ExpectContinue,
            upgrade: facts.HasUpgradeHeader && facts.ConnectionUpgrade && facts.Version == HttpProtocol.Http11, wantsClose, state.Exchange.IsTls);
        CopyHeaders(request, facts, head);

        state.Exchange.HasRequest = true;
        Route(stream, state, facts, head.AsSpan(target.Start.Value, target.End.Value - target.Start.Value - facts.QueryLength));
        return AnalyzerVerdict.Continue;
    }

    /// <summary>
    /// Gives the fields to the SDK view of the head. For an absolute-form target, Host becomes the target's authority
    /// (RFC 9112 §3.2.2: a proxy generates Host from the target, whatever Host said), in its place, so routes, analyzers,
    /// X-Forwarded-Host and the server all see that authority; an HTTP/1.0 request without Host gets one.
    /// </summary>
    private static void CopyHeaders(HttpRequestHead request, RequestFacts facts, byte[] head)
    {
        if (!facts.AbsoluteForm)
        {
            facts.CopyHeadersTo(request.Headers);
            return;
        }

        facts.CopyHeadersTo(request.Headers, facts.HostIndex, facts.Authority);
        if (facts.HostIndex < 0)
        {
            // Only HTTP/1.0 gets here (HTTP/1.1 without Host is refused): rare enough to make a string.
            request.Headers.Add("Host", Encoding.ASCII.GetString(head.AsSpan(facts.Authority)));
        }
    }

    private static AnalyzerVerdict Fail(HttpStreamState state, HttpParseError error)
    {
        state.RequestError = error;
        return AnalyzerVerdict.Stop(ErrorReplies.For(HttpParseErrors.RequestStatus(error)));
    }

    /// <summary>Routes by the normalised <paramref name="path"/> and the host: an absolute-form target's authority, else Host.</summary>
    private static void Route(ProxyStream stream, HttpStreamState state, RequestFacts facts, ReadOnlySpan<byte> path)
    {
        if (state.Routes is not { IsEmpty: false } routes)
        {
            return;
        }

        ReadOnlySpan<byte> host = facts.AbsoluteForm ? state.RequestHead.AsSpan(facts.Authority)
            : facts.HostCount > 0 ? state.RequestHead.AsSpan(facts.Host)
            : [];
        string? backend = routes.Match(state.Exchange.Request, WithoutPort(host), path, stream.Session.Tls?.ServerName);
        if (backend is not null)
        {
            stream.Backend = stream.Session.Backends.Find(backend);
        }
    }

    private static ReadOnlySpan<byte> WithoutPort(ReadOnlySpan<byte> host)
    {
        if (host.Length > 0 && host[0] == '[')
        {
            int close = host.IndexOf((byte)']');
            return close < 0 ? host : host[..(close + 1)];
        }

        int colon = host.LastIndexOf((byte)':');
        return colon < 0 ? host : host[..colon];
    }
}
