using System.Diagnostics.Metrics;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging.Abstractions;
using PluginProxy.Host.Backends;
using PluginProxy.Host.Metrics;
using PluginProxy.Host.Plugins;
using PluginProxy.Tests.Admin;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Metrics;

/// <summary>
/// Instruments a plugin creates through the <see cref="IMeterFactory"/> it is given appear in the host's <c>/metrics</c>,
/// and go with the plugin version: once it unloads, no listener keeps a callback into it.
/// </summary>
[Collection(ForcesGarbageCollection.Name)]
public sealed class PluginMetricsTests : IDisposable
{
    /// <summary>A supervisor with a gauge whose callback points into the plugin, and a counter.</summary>
    private const string Measured = """
        private readonly int _mood = 7;

        public Greeter(System.Diagnostics.Metrics.IMeterFactory meters)
        {
            var meter = meters.Create(new System.Diagnostics.Metrics.MeterOptions("PluginProxy.Greeter"));
            meter.CreateObservableGauge("pluginproxy.greeter.mood", () => _mood);
            meter.CreateObservableCounter("pluginproxy.greeter.built", () => 1L);
        }
        """;

    private readonly TempDirectory _plugins = new();

    public void Dispose() => _plugins.Dispose();

    [Fact]
    public async Task APluginsOwnInstruments_AppearInTheHostsMetrics()
    {
        PluginFactory.Build(_plugins.Path, "Measured", PluginFactory.GreeterSource("\"v1\"", extra: Measured));
        await using RunningProxy proxy = await RunningProxy.StartAsync($$"""
            {{RunningProxy.GlobalSection("admin = \"127.0.0.1:0\"", plugins: _plugins.Path)}}
            [[listener]]
            name = "greet"
            bind = ["127.0.0.1:0"]
            supervisor = "greeter"
            """);
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(proxy.Host.Listeners[0].BoundEndPoints[0]);
            using var reader = new StreamReader(client.GetStream());
            Assert.Equal("v1-hello", await reader.ReadLineAsync());
        }

        using var admin = new HttpClient { BaseAddress = new Uri($"http://{proxy.Host.AdminEndPoint}/") };
        Dictionary<string, double> samples = PrometheusText.Parse(await admin.GetStringAsync("/metrics"));
        Assert.Equal(7, Sample(samples, "pluginproxy_greeter_mood"));
        Assert.Equal(1, Sample(samples, "pluginproxy_greeter_built_total"));
    }

    [Fact]
    public async Task APluginsMeters_GoWithItsVersion_WhichIsCollected()
    {
        PluginFactory.Build(_plugins.Path, "Measured", PluginFactory.GreeterSource("\"v1\"", extra: Measured));
        var metrics = new ProxyMetrics();
        var catalog = new PluginCatalog(new PluginHostServices(NullLoggerFactory.Instance, new ServerConnector(NullLogger.Instance), new CapturedAccessLog(), metrics.Scope));
        Assert.Empty(await catalog.LoadFoldersAsync([_plugins.Path]));
        WeakReference context = ContextOf(catalog);

        // A listener like an exporter's, which holds every instrument it was shown (and their callbacks) until told they are gone.
        int observed = 0;
        int completed = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "PluginProxy.Greeter")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
            MeasurementsCompleted = (_, _) => Interlocked.Increment(ref completed),
        };
        listener.SetMeasurementEventCallback<int>((_, value, _, _) => observed = value);
        listener.Start();
        listener.RecordObservableInstruments();
        Assert.Equal(7, observed);

        await catalog.DisposeAsync();
        Assert.Equal(2, completed);
        await Wait.UntilAsync(() =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return !context.IsAlive;
        }, "the plugin version to be collected");
        metrics.Dispose();
    }

    private static double Sample(Dictionary<string, double> samples, string name) =>
        samples.TryGetValue(name, out double value) ? value : samples.TryGetValue(name + "{}", out value) ? value
        : throw new Xunit.Sdk.XunitException($"no sample {name} in: {string.Join(", ", samples.Keys.Where(k => k.Contains("greeter", StringComparison.Ordinal)))}");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference ContextOf(PluginCatalog catalog) => catalog.Plugins.Single(p => p.Name == "Measured").LoadContext;
}

/// <summary>A script that returns an analyzer creates its instruments through the <see cref="IMeterFactory"/> in <c>Services</c>.</summary>
public sealed class ScriptMetricsTests
{
    private const string Counting = """
        using System.Diagnostics.Metrics;
        using System.Threading;

        var meters = (IMeterFactory)Services.GetService(typeof(IMeterFactory))!;
        var seen = meters.Create(new MeterOptions("PluginProxy.Counting")).CreateCounter<long>("pluginproxy.counting.seen", "{request}");
        return new Counting(seen);

        sealed class Counting(Counter<long> seen) : IFlowAnalyzer
        {
            public ValueTask<AnalyzerVerdict> AnalyzeAsync(ProxyStream stream, Channel channel, CancellationToken cancellationToken)
            {
                seen.Add(1);
                return ValueTask.FromResult(AnalyzerVerdict.Continue);
            }
        }
        """;

    [Fact]
    public async Task AScriptsOwnCounter_CountsInTheHostsMetrics()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        using var scripts = new ScriptFolder();
        scripts.Write("counting.csx", Counting);
        string config = scripts.Config(origin.Address, "request_analyzers = [\"counting.csx\"]").Replace("[global]\n", "[global]\nadmin = \"127.0.0.1:0\"\n", StringComparison.Ordinal);
        await using RunningProxy proxy = await RunningProxy.StartAsync(config);
        using (RawHttp client = await RawHttp.ConnectAsync(proxy))
        {
            for (int i = 0; i < 3; i++)
            {
                await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
                Assert.Equal(200, (await client.ReadResponseAsync()).Status);
            }
        }

        using var admin = new HttpClient { BaseAddress = new Uri($"http://{proxy.Host.AdminEndPoint}/") };
        Dictionary<string, double> samples = PrometheusText.Parse(await admin.GetStringAsync("/metrics"));
        Assert.Equal(3, samples.TryGetValue("pluginproxy_counting_seen_total", out double seen) ? seen : samples["pluginproxy_counting_seen_total{}"]);
    }
}
