using System.Diagnostics;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;

namespace PluginProxy.Host.Metrics;

/// <summary>
/// Spans of HTTP streams on the <c>PluginProxy</c> <see cref="ActivitySource"/>: a server span per stream, the child of
/// the client's W3C <c>traceparent</c> when it sent one, whose own id goes on to the server. Only when <c>tracing</c> is
/// on; otherwise <see cref="Start"/> is a test of a flag.
/// </summary>
internal sealed class RequestTracing : IRequestTracing
{
    public const string SourceName = "PluginProxy";

    private static readonly ActivitySource Source = new(SourceName, typeof(RequestTracing).Assembly.GetName().Version?.ToString(3));

    /// <summary>Set when the host starts with <c>tracing = true</c> (and its tracer provider listens).</summary>
    public bool Enabled { get; set; }

    public Activity? Start(string listener, HttpRequestHead request, DateTime startUtc)
    {
        if (!Enabled || !Source.HasListeners())
        {
            return null;
        }

        ActivityContext parent = default;
        if (request.Headers.Get("traceparent") is { } traceparent)
        {
            // A malformed traceparent starts a new trace, as W3C Trace Context says.
            ActivityContext.TryParse(traceparent, request.Headers.Get("tracestate"), isRemote: true, out parent);
        }

        Activity? activity = Source.CreateActivity(request.Method, ActivityKind.Server, parent);
        if (activity is null)
        {
            return null;
        }

        activity.SetStartTime(startUtc);
        activity.SetTag("http.request.method", request.Method);
        activity.SetTag("url.path", request.Path);
        activity.SetTag("server.address", request.Host);
        activity.SetTag("network.protocol.version", AccessLogText.VersionName(request.Version)[5..]);
        activity.SetTag("pluginproxy.listener", listener);
        // Started without becoming Activity.Current: the span belongs to the stream, not to the connection's async flow.
        Activity? current = Activity.Current;
        activity.Start();
        Activity.Current = current;
        request.Headers.Set("traceparent", activity.Id!);
        if (activity.TraceStateString is { } state)
        {
            request.Headers.Set("tracestate", state);
        }

        return activity;
    }

    /// <summary>Ends a stream's span with what the record says of it.</summary>
    public static void End(Activity activity, in AccessRecord record)
    {
        if (record.Status > 0)
        {
            activity.SetTag("http.response.status_code", record.Status);
        }

        if (record.Server is { } server)
        {
            activity.SetTag("pluginproxy.backend", server.Backend.Name);
            activity.SetTag("pluginproxy.server", server.Name);
        }

        if (record.Status >= 500 || record.Termination != SessionTermination.Normal)
        {
            activity.SetStatus(ActivityStatusCode.Error, record.Termination.ToLogName());
        }

        activity.SetEndTime(activity.StartTimeUtc + record.TotalTime);
        activity.Stop();
    }
}
