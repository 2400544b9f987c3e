using System.Diagnostics;
using PluginProxy.Abstractions.Http;

namespace PluginProxy.Abstractions;

/// <summary>
/// The host's tracing (<c>tracing</c> in [global]): a span per HTTP stream, whose W3C <c>traceparent</c> goes on to the
/// server. Supervisors receive it by injection, start the span when a request is ready to be forwarded, and hand it
/// back in <see cref="AccessRecord.Activity"/>, which ends it. Off by default, and then one test of a flag.
/// </summary>
public interface IRequestTracing
{
    /// <summary>
    /// Starts the span of <paramref name="request"/> (a child of the client's <c>traceparent</c> when it sent one) and
    /// sets <c>traceparent</c> (and <c>tracestate</c>) on the request to the span's; null when tracing is off or the
    /// trace is not sampled, and then the request is left as it is.
    /// </summary>
    Activity? Start(string listener, HttpRequestHead request, DateTime startUtc);
}
