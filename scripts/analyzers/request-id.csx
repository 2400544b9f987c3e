// A script that returns an analyzer: used exactly like one from a plugin. It gives every request an X-Request-Id
// (keeping one the client or a proxy in front already set) and records it in the stream's variables.

using System.Threading;

return new RequestIdAnalyzer();

sealed class RequestIdAnalyzer : IFlowAnalyzer
{
    private long _next;

    public ValueTask<AnalyzerVerdict> AnalyzeAsync(ProxyStream stream, Channel channel, CancellationToken cancellationToken)
    {
        if (stream.Http is { HasRequest: true } http)
        {
            string id = http.Request.Headers["X-Request-Id"] ?? $"{Environment.ProcessId:x}-{Interlocked.Increment(ref _next):x}";
            http.Request.Headers.Set("X-Request-Id", id);
            stream.Variables["request_id"] = id;
        }

        return ValueTask.FromResult(AnalyzerVerdict.Continue);
    }
}
