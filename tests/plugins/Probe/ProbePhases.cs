using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;

namespace PluginProxy.Tests.Probe;

/// <summary>Sets <c>X-Probe-Filter: seen</c> on every request, and answers 403 to any request for a path under /admin.</summary>
public sealed class TagOrDenyRequests : IHttpRequestFilter
{
    public ValueTask<FilterResult> OnRequestAsync(HttpFilterContext context, CancellationToken cancellationToken)
    {
        if (context.Request.Path.StartsWith("/admin", StringComparison.Ordinal))
        {
            return ValueTask.FromResult(FilterResult.Reply(403, "no admin here\n"));
        }

        context.Request.Headers.Set("X-Probe-Filter", "seen");
        return ValueTask.FromResult(FilterResult.Continue);
    }
}

/// <summary>Throws for any request whose path contains "boom", after completing asynchronously (the awaited path of the adapter).</summary>
public sealed class ThrowingRequestFilter : IHttpRequestFilter
{
    public async ValueTask<FilterResult> OnRequestAsync(HttpFilterContext context, CancellationToken cancellationToken)
    {
        await Task.Yield();
        return context.Request.Path.Contains("boom", StringComparison.Ordinal)
            ? throw new InvalidOperationException("filter boom")
            : FilterResult.Continue;
    }
}

/// <summary>Sends the stream to the backend the request names in <c>X-Backend</c>, when there is one by that name.</summary>
public sealed class BackendFromHeader : IHttpUpstreamSelector
{
    public ValueTask<IBackend?> SelectBackendAsync(HttpFilterContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(context.Request.Headers.Get("X-Backend") is { } name ? context.Backends.Find(name) : null);
}

/// <summary>The header rule of docs/plugins.md: <c>X-Frame-Options: DENY</c> on every response.</summary>
public sealed class FrameOptionsDeny : IHttpResponseFilter
{
    public ValueTask<FilterResult> OnResponseAsync(HttpFilterContext context, CancellationToken cancellationToken)
    {
        context.Response.Headers.Set("X-Frame-Options", "DENY");
        return ValueTask.FromResult(FilterResult.Continue);
    }
}

/// <summary>Replaces any 404 of the server with its own 410 reply.</summary>
public sealed class GoneFor404 : IHttpResponseFilter
{
    public ValueTask<FilterResult> OnResponseAsync(HttpFilterContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(context.Response.Status == 404 ? FilterResult.Reply(410, "gone\n") : FilterResult.Continue);
}

/// <summary>Writes one log line per ended stream (category <c>PluginProxy.Tests.Probe.ProbeHttpLogger</c>) for tests to read.</summary>
public sealed class ProbeHttpLogger(ILogger<ProbeHttpLogger> log) : IHttpLogger
{
    public void Log(HttpFilterContext context, HttpLogEntry entry) =>
        log.LogInformation("stream ended: {Method} {Path}{Query} {Authority} status={Status} bytes={Bytes} end={Termination} to={Backend}/{Server} total_ok={TotalOk} session={Session}",
            entry.Method ?? "-", entry.Path ?? "-", entry.Query, entry.Authority ?? "-", entry.Status, entry.BytesToClient, entry.Termination,
            entry.Backend ?? "-", entry.Server ?? "-", entry.TotalTime >= TimeSpan.Zero, context.Session.Id);
}
