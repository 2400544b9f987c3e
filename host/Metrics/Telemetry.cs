using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace PluginProxy.Host.Metrics;

/// <summary>
/// The OpenTelemetry SDK's view of one host: a <see cref="MeterProvider"/> that reads the host's meters (its own and
/// those of its plugins and scripts, told apart by <see cref="ProxyMetrics.Scope"/>) and the runtime's, for the admin
/// endpoint's <c>/metrics</c> (Prometheus text) and, when <c>otlp_endpoint</c> is set, an OTLP exporter; and with
/// <c>tracing</c>, a <see cref="TracerProvider"/> exporting the streams' spans by OTLP.
/// </summary>
internal sealed class Telemetry : IDisposable
{
    private readonly TracerProvider? _tracer;

    private Telemetry(MeterProvider provider, bool prometheus, TracerProvider? tracer) => (Provider, Prometheus, _tracer) = (provider, prometheus, tracer);

    /// <summary>The meter provider; the admin endpoint's Prometheus middleware finds its exporter in it.</summary>
    public MeterProvider Provider { get; }

    /// <summary>True when it has the Prometheus exporter the admin endpoint serves.</summary>
    public bool Prometheus { get; }

    /// <summary>True when spans are exported.</summary>
    public bool Tracing => _tracer is not null;

    /// <param name="prometheus">True when the admin endpoint serves <c>/metrics</c>.</param>
    /// <param name="otlp">Where to push metrics (and spans) by OTLP, or null.</param>
    /// <param name="sampleRatio">With <paramref name="tracing"/>: the share of new traces kept (a sampled parent is always followed).</param>
    public static Telemetry? Start(ProxyMetrics metrics, bool prometheus, OtlpTarget? otlp, bool tracing = false, double sampleRatio = 1.0)
    {
        if (!prometheus && otlp is null)
        {
            return null;
        }

        object scope = metrics.Scope;
        MeterProviderBuilder builder = Sdk.CreateMeterProviderBuilder()
            .ConfigureResource(Describe)
            .AddMeter(ProxyMetrics.MeterName, ProxyMetrics.MeterName + ".*", "System.Runtime")
            // Another host's meters in the same process (tests) have the same names: keep only this host's.
            .AddView(instrument => instrument.Meter.Name.StartsWith(ProxyMetrics.MeterName, StringComparison.Ordinal) && !ReferenceEquals(instrument.Meter.Scope, scope)
                ? MetricStreamConfiguration.Drop
                : null);
        if (prometheus)
        {
            builder.AddPrometheusExporter(options =>
            {
                options.ScrapeResponseCacheDurationMilliseconds = 0;
                options.ScopeInfoEnabled = false;
            });
        }

        TracerProvider? tracer = null;
        if (otlp is { } target)
        {
            builder.AddOtlpExporter((exporter, reader) =>
            {
                Configure(exporter, target, "metrics");
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)target.Interval.TotalMilliseconds;
            });
            if (tracing)
            {
                tracer = Sdk.CreateTracerProviderBuilder()
                    .ConfigureResource(Describe)
                    .AddSource(RequestTracing.SourceName)
                    .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(sampleRatio)))
                    .AddOtlpExporter(exporter =>
                    {
                        Configure(exporter, target, "traces");
                        exporter.BatchExportProcessorOptions.ScheduledDelayMilliseconds = (int)target.Interval.TotalMilliseconds;
                    })
                    .Build();
            }
        }

        return new Telemetry(builder.Build(), prometheus, tracer);
    }

    private static void Describe(ResourceBuilder resource) =>
        resource.AddService("pluginproxy", serviceVersion: typeof(Telemetry).Assembly.GetName().Version?.ToString(3));

    /// <summary>
    /// The endpoint as given for gRPC; for HTTP, the signal's path (<c>/v1/metrics</c>, <c>/v1/traces</c>) is added to an
    /// endpoint written without one, as the OTLP specification's base URL says (the SDK takes a URL set in code as is).
    /// </summary>
    private static void Configure(OtlpExporterOptions exporter, OtlpTarget target, string signal)
    {
        exporter.Protocol = target.Protocol;
        exporter.Endpoint = target.Protocol == OtlpExportProtocol.HttpProtobuf && target.Endpoint.AbsolutePath is "/" or ""
            ? new Uri(target.Endpoint, "/v1/" + signal)
            : target.Endpoint;
    }

    public void Dispose()
    {
        _tracer?.Dispose();
        Provider.Dispose();
    }
}

/// <summary>Where OTLP exports go (<c>otlp_endpoint</c>, <c>otlp_protocol</c>, <c>otlp_interval</c> in [global]).</summary>
internal sealed record OtlpTarget(Uri Endpoint, OtlpExportProtocol Protocol, TimeSpan Interval);
