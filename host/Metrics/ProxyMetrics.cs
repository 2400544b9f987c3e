using System.Diagnostics;
using System.Diagnostics.Metrics;
using PluginProxy.Abstractions;
using PluginProxy.Host.Accept;
using PluginProxy.Host.Backends;
using PluginProxy.Host.Plugins;
using PluginProxy.Host.Scripting;
using PluginProxy.Host.Stores;

namespace PluginProxy.Host.Metrics;

/// <summary>
/// The proxy's instruments, on one <see cref="Meter"/> named <c>PluginProxy</c> (docs/operations.md lists them): what
/// streams count as they end (<see cref="Record"/>), and what is read from the host's state when a reader collects
/// (sessions, servers, plugin and script versions). The meter's scope is this host, so that the exporters of one
/// host never show another's figures (tests run many hosts in one process).
/// </summary>
internal sealed class ProxyMetrics : IDisposable
{
    public const string MeterName = "PluginProxy";

    private static readonly string[] StatusClasses = ["1xx", "2xx", "3xx", "4xx", "5xx", "none"];

    private readonly Meter _meter;
    private readonly Histogram<double> _requestDuration;
    private readonly Histogram<double> _connectDuration;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _terminations;
    private readonly Counter<long> _analyzerFailures;
    private readonly Counter<long> _reloads;

    private ProxyHost? _host;

    public ProxyMetrics()
    {
        _meter = new Meter(new MeterOptions(MeterName) { Version = typeof(ProxyMetrics).Assembly.GetName().Version?.ToString(3), Scope = Scope });
        _requestDuration = _meter.CreateHistogram<double>("pluginproxy.request.duration", "s", "Whole duration of HTTP streams (Ta)",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
        _connectDuration = _meter.CreateHistogram<double>("pluginproxy.server.connect.duration", "s", "Time to connect to a server (new connections only)",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
        // Requests and bytes are counted by the streams' TrafficStats (the dashboard's, always on) and read when collected.
        _meter.CreateObservableCounter("pluginproxy.listener.requests", () => ListenerTraffic((t, c) => t.Requests(c)), "{request}",
            "HTTP streams ended, by listener and status class");
        _meter.CreateObservableCounter("pluginproxy.server.requests", () => ServerTraffic((t, c) => t.Requests(c)), "{request}",
            "HTTP streams a server answered, by status class");
        _meter.CreateObservableCounter("pluginproxy.listener.received", () => ListenerTraffic((t, _) => t.BytesIn, byClass: false), "By",
            "Bytes of HTTP streams received from clients");
        _meter.CreateObservableCounter("pluginproxy.listener.sent", () => ListenerTraffic((t, _) => t.BytesOut, byClass: false), "By",
            "Bytes of HTTP streams sent to clients");
        _meter.CreateObservableCounter("pluginproxy.server.received", () => ServerTraffic((t, _) => t.BytesIn, byClass: false), "By",
            "Bytes of HTTP streams received from clients, by the server that answered");
        _meter.CreateObservableCounter("pluginproxy.server.sent", () => ServerTraffic((t, _) => t.BytesOut, byClass: false), "By",
            "Bytes of HTTP streams sent to clients, by the server that answered");
        _retries = _meter.CreateCounter<long>("pluginproxy.retries", "{retry}", "Connection attempts that failed and were retried on another try");
        _terminations = _meter.CreateCounter<long>("pluginproxy.stream.errors", "{stream}", "Streams that did not end normally, by how they ended (the log's termination)");
        _analyzerFailures = _meter.CreateCounter<long>("pluginproxy.analyzer.failures", "{failure}", "Analyzers and scripts that threw (the stream ended with a 500)");
        _reloads = _meter.CreateCounter<long>("pluginproxy.reloads", "{reload}", "Reloads of the configuration, plugins and scripts, by kind and result");

        _meter.CreateObservableGauge("pluginproxy.listener.sessions.active", () => Host(h => h.Listeners).Select(l => new Measurement<long>(l.ActiveSessions, Tag("listener", l.Name))),
            "{session}", "Sessions running now");
        _meter.CreateObservableGauge("pluginproxy.listener.connections.parked", () => Host(h => h.Listeners).Select(l => new Measurement<long>(l.ParkedSessions, Tag("listener", l.Name))),
            "{connection}", "Idle client connections parked by the host (no session; see park_idle_after)");
        _meter.CreateObservableCounter("pluginproxy.listener.sessions", () => Host(h => h.Listeners).Select(l => new Measurement<long>(l.TotalSessions, Tag("listener", l.Name))),
            "{session}", "Sessions accepted since start");
        _meter.CreateObservableGauge("pluginproxy.listener.maxconn", () => Host(h => h.Listeners).Select(l => new Measurement<long>(l.Config.MaxConn, Tag("listener", l.Name))),
            "{session}", "The listener's maxconn");
        _meter.CreateObservableGauge("pluginproxy.server.up", () => Servers(s => s.IsUp ? 1 : 0), "1", "1 when the server is up, 0 when health checks took it down");
        _meter.CreateObservableGauge("pluginproxy.server.ready", () => Servers(s => s.AdminState == ServerAdminState.Ready ? 1 : 0), "1",
            "1 when the server's admin state is ready, 0 in drain or maint");
        _meter.CreateObservableGauge("pluginproxy.server.weight", () => Servers(s => s.Weight), "1", "The weight in use");
        _meter.CreateObservableGauge("pluginproxy.server.weight.effective", () => Host(h => h.Backends.Backends).SelectMany(b => b.ServerStates.Select(
            s => new Measurement<double>(s.EffectiveWeight, Tag("backend", b.Name), Tag("server", s.Name)))), "1", "The weight balancing uses now (less than the weight while a slowstart ramps it up)");
        _meter.CreateObservableGauge("pluginproxy.server.slots", () => Servers(s => s.Served), "{stream}", "Slots in use on a server with a maxconn");
        _meter.CreateObservableGauge("pluginproxy.server.queue", () => Servers(s => s.Queued), "{stream}", "Streams waiting for this server in particular (its maxconn reached)");
        _meter.CreateObservableGauge("pluginproxy.server.queue.max", () => Servers(s => s.MaxQueued), "{stream}", "The most streams that waited for this server at once");
        _meter.CreateObservableGauge("pluginproxy.backend.queue", () => Backends(b => b.Queue.Length), "{stream}", "Streams waiting for any server of the backend (all at their maxconn)");
        _meter.CreateObservableGauge("pluginproxy.backend.queue.max", () => Backends(b => b.Queue.MaxQueued), "{stream}", "The most streams that waited in the backend's queue at once");
        _meter.CreateObservableCounter("pluginproxy.backend.queue.timeouts", () => Backends(b => b.Queue.Timeouts), "{stream}",
            "Streams that waited timeout_queue for a slot and got a 503 (or, in tcp mode, were closed)");
        _meter.CreateObservableGauge("pluginproxy.server.connections.active", () => Servers(s => s.ActiveConnections), "{connection}", "Connections open to the server now");
        _meter.CreateObservableCounter("pluginproxy.server.connections", () => Servers(s => s.TotalConnections), "{connection}", "Connections made to the server since start");
        _meter.CreateObservableCounter("pluginproxy.server.connect.failures", () => Servers(s => s.FailedConnections), "{failure}", "Connection attempts to the server that failed");
        _meter.CreateObservableCounter("pluginproxy.server.checks", () => Servers(s => s.Checks), "{check}", "Health checks that connected or tried to");
        _meter.CreateObservableGauge("pluginproxy.server.ejected", () => Servers(s => s.Passive.IsEjected ? 1 : 0), "1",
            "1 while passive health checks eject the server, else 0");
        _meter.CreateObservableCounter("pluginproxy.server.ejections", () => Servers(s => s.Passive.Ejections), "{ejection}",
            "Ejections of the server by passive health checks");
        _meter.CreateObservableCounter("pluginproxy.retry.budget.refusals", () => Host(h => h.Backends.Backends).Select(b => new Measurement<long>(b.RetryBudget.Refused, Tag("backend", b.Name))),
            "{retry}", "Retries the backend's retry budget refused (the failure went to the client)");
        _meter.CreateObservableCounter("pluginproxy.server.health.transitions", () => HealthTransitions(), "{transition}",
            "Health changes made by checks, by direction (up, down)");
        _meter.CreateObservableGauge("pluginproxy.server.addresses", () => Servers(s => s.Addresses.Count), "{address}",
            "The addresses the server's connections rotate over (those its host name resolved to)");
        _meter.CreateObservableGauge("pluginproxy.server.dns.failing", () => Servers(s => s.Resolution?.FailingSince is null ? 0 : 1, named: true), "1",
            "1 while the server's host name fails to resolve (it keeps its last addresses), 0 while it resolves");
        _meter.CreateObservableCounter("pluginproxy.server.dns.failures", () => Servers(s => s.Resolution?.Failures ?? 0, named: true), "{failure}",
            "Resolutions of the server's host name that failed");
        _meter.CreateObservableGauge("pluginproxy.store.up", () => Stores(s => s.State == Abstractions.Stores.StoreState.Up ? 1 : 0), "1",
            "1 while the store shares (its last exchange succeeded), 0 while it connects or is down (counters are this instance's own)");
        _meter.CreateObservableCounter("pluginproxy.store.exchanges", () => Stores(s => s.Exchanges), "{exchange}",
            "Exchanges with the store that succeeded (one pipelined batch per sync_interval)");
        _meter.CreateObservableCounter("pluginproxy.store.exchange.failures", () => Stores(s => s.FailedExchanges), "{exchange}",
            "Exchanges with the store that failed: not connected, an error, or no answer within its timeout");
        _meter.CreateObservableGauge("pluginproxy.store.exchange.duration",
            () => Host(h => h.Stores.Current.Stores).Select(s => new Measurement<double>(s.LastExchangeDuration.TotalSeconds, Tag("store", s.Name))), "s",
            "How long the last successful exchange with the store took (send to last answer)");
        _meter.CreateObservableGauge("pluginproxy.store.counters", () => Stores(s => s.CounterCount), "{counter}",
            "Shared counters in use on this instance (those unused for two windows are forgotten)");
        _meter.CreateObservableGauge("pluginproxy.plugin.version", () => Host(h => h.Plugins.Plugins).Select(p => new Measurement<long>(p.Generation, Tag("plugin", p.Name))),
            "1", "The version (generation) of each loaded plugin: 1 at start, one more per hot reload");
        _meter.CreateObservableGauge("pluginproxy.script.version", () => Host(h => h.Scripts.Scripts).Select(s => new Measurement<long>(s.Version, Tag("script", Path.GetFileName(s.Path)))),
            "1", "The version of each compiled script: 1 at start, one more per change");
    }

    /// <summary>The scope of the host's meters (its own and those plugins and scripts create): exporters keep only these.</summary>
    public object Scope => this;

    /// <summary>The host whose state the observed instruments read; none are reported before.</summary>
    public void Attach(ProxyHost host) => _host = host;

    /// <summary>True when an exporter listens: skip work done only for the metrics otherwise.</summary>
    public bool Enabled => _requestDuration.Enabled;

    /// <summary>
    /// Counts one finished stream: its duration (and connect time, retries, errors when there are any) on the histogram;
    /// a test of a flag when nobody listens. Requests and bytes are not counted here (<see cref="TrafficStats"/> does).
    /// </summary>
    public void Record(in AccessRecord record)
    {
        if (!_requestDuration.Enabled)
        {
            return;
        }

        _requestDuration.Record(record.TotalTime.TotalSeconds,
            new KeyValuePair<string, object?>("listener", record.Listener), new("backend", record.Backend?.Name ?? "-"), new("server", record.Server?.Name ?? "-"));
        if (record.ConnectTime > TimeSpan.Zero && record.Server is not null)
        {
            _connectDuration.Record(record.ConnectTime.TotalSeconds, new KeyValuePair<string, object?>("backend", record.Backend?.Name ?? "-"), new("server", record.Server.Name));
        }

        if (record.Retries > 0)
        {
            _retries.Add(record.Retries, new KeyValuePair<string, object?>("listener", record.Listener), new("backend", record.Backend?.Name ?? "-"));
        }

        if (record.Termination != SessionTermination.Normal)
        {
            _terminations.Add(1, new KeyValuePair<string, object?>("listener", record.Listener), new("termination", record.Termination.ToLogName()));
        }

        if (record.FailedAnalyzer is { } analyzer)
        {
            _analyzerFailures.Add(1, new KeyValuePair<string, object?>("listener", record.Listener), new("analyzer", analyzer));
        }
    }

    /// <summary>Counts a reload: <paramref name="kind"/> config, plugin or script; refused when the old version stays.</summary>
    public void Reloaded(string kind, bool succeeded) =>
        _reloads.Add(1, new KeyValuePair<string, object?>("kind", kind), new("result", succeeded ? "ok" : "refused"));

    private static KeyValuePair<string, object?> Tag(string name, string value) => new(name, value);

    private IEnumerable<T> Host<T>(Func<ProxyHost, IEnumerable<T>> read) => _host is { } host ? read(host) : [];

    private IEnumerable<Measurement<long>> ListenerTraffic(Func<TrafficStats, int, long> value, bool byClass = true) =>
        _host is { } host
            ? host.Listeners.SelectMany(l => Traffic(host.Recorder.Listener(l.Name), value, byClass, Tag("listener", l.Name)))
            : [];

    private IEnumerable<Measurement<long>> ServerTraffic(Func<TrafficStats, int, long> value, bool byClass = true) =>
        Host(h => h.Backends.Backends).SelectMany(b => b.ServerStates.SelectMany(s => Traffic(s.Traffic, value, byClass, Tag("backend", b.Name), Tag("server", s.Name))));

    private static IEnumerable<Measurement<long>> Traffic(TrafficStats stats, Func<TrafficStats, int, long> value, bool byClass, params KeyValuePair<string, object?>[] tags) =>
        byClass
            ? StatusClasses.Select((name, i) => new Measurement<long>(value(stats, i), [.. tags, Tag("status_class", name)]))
            : [new Measurement<long>(value(stats, 0), tags)];

    /// <param name="named">Only the servers named by host name.</param>
    private IEnumerable<Measurement<long>> Servers(Func<Server, long> value, bool named = false) =>
        Host(h => h.Backends.Backends).SelectMany(b => b.ServerStates.Where(s => !named || s.Resolution is not null)
            .Select(s => new Measurement<long>(value(s), Tag("backend", b.Name), Tag("server", s.Name))));

    private IEnumerable<Measurement<long>> Backends(Func<Backend, long> value) =>
        Host(h => h.Backends.Backends).Select(b => new Measurement<long>(value(b), Tag("backend", b.Name)));

    private IEnumerable<Measurement<long>> Stores(Func<SharedStore, long> value) =>
        Host(h => h.Stores.Current.Stores).Select(s => new Measurement<long>(value(s), Tag("store", s.Name)));

    private IEnumerable<Measurement<long>> HealthTransitions() =>
        Host(h => h.Backends.Backends).SelectMany(b => b.ServerStates.SelectMany(s => new[]
        {
            new Measurement<long>(s.WentUp, Tag("backend", b.Name), Tag("server", s.Name), Tag("to", "up")),
            new Measurement<long>(s.WentDown, Tag("backend", b.Name), Tag("server", s.Name), Tag("to", "down")),
        }));

    public void Dispose() => _meter.Dispose();
}
