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

        HttpStreamState.CopyHead(ref state.RequestHead, data[..facts.HeadLength]);
        HttpRequestHead request = state.Exchange.Request;
        bool wantsClose = facts.ConnectionClose || (facts.Version == Http1Version.Http10 && !facts.ConnectionKeepAlive);
        request.Reset(state.RequestHead, facts.Method, facts.Target, facts.Version,
            facts.ContentLength >= 0 ? facts.ContentLength : null, facts.Chunked, facts.ExpectContinue,
            upgrade: facts.HasUpgradeHeader && facts.ConnectionUpgrade && facts.Version == Http1Version.Http11, wantsClose);
        facts.CopyHeadersTo(request.Headers);

        state.Exchange.HasRequest = true;
        Route(stream, state, facts);
        return AnalyzerVerdict.Continue;
    }

    private static AnalyzerVerdict Fail(HttpStreamState state, HttpParseError error)
    {
        state.RequestError = error;
        return AnalyzerVerdict.Stop(ErrorReplies.For(HttpParseErrors.RequestStatus(error)));
    }

    private static void Route(ProxyStream stream, HttpStreamState state, RequestFacts facts)
    {
        if (state.Routes is not { IsEmpty: false } routes)
        {
            return;
        }

        HttpRequestHead request = state.Exchange.Request;
        ReadOnlySpan<byte> target = request.RawTarget;
        ReadOnlySpan<byte> host = facts.HostCount > 0 ? state.RequestHead.AsSpan(facts.Host) : [];
        ReadOnlySpan<byte> path = target;
        if (target.Length > 0 && target[0] != '/' && target.IndexOf("://"u8) is int scheme and > 0)
        {
            // Absolute form: its authority is the host, whatever the Host header says (RFC 9112 §3.2.2).
            ReadOnlySpan<byte> rest = target[(scheme + 3)..];
            int slash = rest.IndexOfAny((byte)'/', (byte)'?');
            host = slash < 0 ? rest : rest[..slash];
            path = slash < 0 ? "/"u8 : rest[slash..];
        }

        int query = path.IndexOf((byte)'?');
        if (query >= 0)
        {
            path = path[..query];
        }

        string? backend = routes.Match(request, WithoutPort(host), path, stream.Session.Tls?.ServerName);
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
