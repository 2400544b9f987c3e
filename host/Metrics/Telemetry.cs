using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace PluginProxy.Host.Metrics;

/// <summary>
/// The OpenTelemetry SDK's view of one host: a <see cref="MeterProvider"/> that reads the host's meters (its own and
/// those of its plugins and scripts, told apart by <see cref="ProxyMetrics.Scope"/>) and the runtime's, for the admin
/// endpoint's <c>/metrics</c> (Prometheus text) and, when <c>otlp_endpoint</c> is set, an OTLP exporter.
/// </summary>
internal sealed class Telemetry : IDisposable
{
    private Telemetry(MeterProvider provider, bool prometheus) => (Provider, Prometheus) = (provider, prometheus);

    /// <summary>True when it has the Prometheus exporter the admin endpoint serves.</summary>
    public bool Prometheus { get; }

    /// <summary>The provider; the admin endpoint's Prometheus middleware finds its exporter in it.</summary>
    public MeterProvider Provider { get; }

    /// <param name="prometheus">True when the admin endpoint serves <c>/metrics</c>.</param>
    /// <param name="otlp">Where to push metrics by OTLP, or null.</param>
    public static Telemetry? Start(ProxyMetrics metrics, bool prometheus, OtlpTarget? otlp)
    {
        if (!prometheus && otlp is null)
        {
            return null;
        }

        object scope = metrics.Scope;
        MeterProviderBuilder builder = Sdk.CreateMeterProviderBuilder()
            .ConfigureResource(resource => resource.AddService("pluginproxy", serviceVersion: typeof(Telemetry).Assembly.GetName().Version?.ToString(3)))
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

        if (otlp is { } target)
        {
            builder.AddOtlpExporter((exporter, reader) =>
            {
                exporter.Endpoint = target.Endpoint;
                exporter.Protocol = target.Protocol;
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)target.Interval.TotalMilliseconds;
            });
        }

        return new Telemetry(builder.Build(), prometheus);
    }

    public void Dispose() => Provider.Dispose();
}

/// <summary>Where OTLP exports go (<c>otlp_endpoint</c>, <c>otlp_protocol</c>, <c>otlp_interval</c> in [global]).</summary>
internal sealed record OtlpTarget(Uri Endpoint, OtlpExportProtocol Protocol, TimeSpan Interval);
