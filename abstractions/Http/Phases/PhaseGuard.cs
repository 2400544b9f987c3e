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
                $"{Name(phase)} ran before its supervisor decoded the request head (the http supervisor decodes it before any analyzer; another supervisor may not)");
        }
    }

    /// <summary>The response head is there: the phase can run. Else an exception that says what is misplaced.</summary>
    public static void RequireResponse(ProxyStream stream, object phase)
    {
        HttpExchange http = RequireHttp(stream, phase);
        if (!http.HasResponse)
        {
            throw new AnalyzerException(Name(phase),
                $"{Name(phase)} ran before its supervisor decoded the response head (the http supervisor decodes it before any analyzer; another supervisor may not)");
        }
    }

    public static HttpExchange RequireHttp(ProxyStream stream, object phase) =>
        stream.Http ?? throw new AnalyzerException(Name(phase), $"{Name(phase)} is an HTTP phase: it runs only on a listener whose supervisor speaks HTTP");

    private static string Name(object phase) => phase.GetType().Name;
}
