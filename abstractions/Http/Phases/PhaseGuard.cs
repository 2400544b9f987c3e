namespace PluginProxy.Abstractions.Http;

/// <summary>What the phase adapters check before they hand a stream to a typed phase.</summary>
internal static class PhaseGuard
{
    /// <summary>The request head is parsed: the phase can run. Else an exception that says what is misplaced.</summary>
    public static void RequireRequest(ProxyStream stream, object phase)
    {
        HttpExchange http = RequireHttp(stream, phase);
        if (!http.HasRequest)
        {
            throw new AnalyzerException(Name(phase),
                $"{Name(phase)} ran before the request head was parsed: list it after http_lb_req in request_analyzers (or leave http_lb_req out, so that it runs first)");
        }
    }

    /// <summary>The response head is there: the phase can run. Else an exception that says what is misplaced.</summary>
    public static void RequireResponse(ProxyStream stream, object phase)
    {
        HttpExchange http = RequireHttp(stream, phase);
        if (!http.HasResponse)
        {
            throw new AnalyzerException(Name(phase),
                $"{Name(phase)} ran before the response head was parsed: list it after http_lb_resp in response_analyzers (or leave http_lb_resp out, so that it runs first)");
        }
    }

    public static HttpExchange RequireHttp(ProxyStream stream, object phase) =>
        stream.Http ?? throw new AnalyzerException(Name(phase), $"{Name(phase)} is an HTTP phase: it runs only on a listener whose supervisor speaks HTTP");

    private static string Name(object phase) => phase.GetType().Name;
}
