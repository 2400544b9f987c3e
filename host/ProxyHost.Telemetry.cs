using PluginProxy.Host.Admin;
using PluginProxy.Host.Backends;
using PluginProxy.Host.Configuration;
using PluginProxy.Host.Metrics;

namespace PluginProxy.Host;

/// <summary>The host's metrics: what streams count, the OpenTelemetry provider that exports them, and the reload history.</summary>
internal sealed partial class ProxyHost
{
    private readonly object _telemetryGate = new();
    private Telemetry? _telemetry;

    /// <summary>The proxy's instruments (one meter, scoped to this host).</summary>
    public ProxyMetrics Metrics { get; private init; } = null!;

    /// <summary>What supervisors write their streams to: it counts them, then writes the access log.</summary>
    public AccessRecorder Recorder { get; private init; } = null!;

    /// <summary>The OpenTelemetry provider, when the admin endpoint or <c>otlp_endpoint</c> asks for one.</summary>
    public Telemetry? Telemetry => _telemetry;

    /// <summary>The last reloads (configuration, plugins, scripts), newest last, for the dashboard.</summary>
    public ReloadHistory Reloads { get; } = new();

    /// <summary>
    /// Where the health checks of each checked server stand (among others, when each was last checked), for the
    /// dashboard; empty before the checks start.
    /// </summary>
    internal IReadOnlyDictionary<Server, CheckProgress> HealthProgress => _health?.Progress ?? new Dictionary<Server, CheckProgress>();

    /// <summary>Records a reload in the history and the metrics.</summary>
    internal void NoteReload(string kind, string what, bool succeeded, string? problem = null)
    {
        Reloads.Add(new ReloadEvent(DateTimeOffset.UtcNow, kind, what, succeeded, problem));
        Metrics.Reloaded(kind, succeeded);
    }

    /// <summary>The host's tracing (on with <c>tracing = true</c>), given to supervisors.</summary>
    public RequestTracing Tracing { get; private init; } = null!;

    private void StartTelemetry()
    {
        GlobalConfig global = Config.Global;
        _telemetry = Telemetry.Start(Metrics, AdminServer.IsConfigured(global), global.Otlp, global.Tracing, global.TraceSampleRatio);
        Tracing.Enabled = _telemetry is { Tracing: true };
    }

    /// <summary>The provider, started now if the admin endpoint was added by a reload (it serves <c>/metrics</c> from it).</summary>
    internal Telemetry? EnsureTelemetry()
    {
        lock (_telemetryGate)
        {
            return _telemetry is { Prometheus: true } ? _telemetry : (_telemetry = Restart());
        }

        Telemetry? Restart()
        {
            _telemetry?.Dispose();
            Telemetry? started = Telemetry.Start(Metrics, prometheus: true, Config.Global.Otlp, Tracing.Enabled, Config.Global.TraceSampleRatio);
            Tracing.Enabled = started is { Tracing: true };
            return started;
        }
    }

    private void StopTelemetry()
    {
        _telemetry?.Dispose();
        _telemetry = null;
        Metrics.Dispose();
    }
}
