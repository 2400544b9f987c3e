using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Http.H2;

/// <summary>
/// Hot reload while HTTP/2 connections carry streams: each stream holds the analyzer versions it started with, so a
/// script or plugin replaced mid-connection serves the streams that start after it, on the same connection, and no
/// stream fails.
/// </summary>
[Collection(ForcesGarbageCollection.Name)]
public class Http2ReloadTests
{
    /// <summary>Several request loops sharing one HTTP/2 connection, recording what each response says and any failure.</summary>
    private sealed class H2Traffic : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly HttpClient _client = Http2ProxyTests.H2Client();
        private readonly Task[] _loops;

        public H2Traffic(RunningProxy proxy, Func<HttpResponseMessage, string, string> read, int loops = 6)
        {
            string url = Http2ProxyTests.Url(proxy, "/x");
            _loops = Enumerable.Range(0, loops).Select(_ => Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    try
                    {
                        using HttpResponseMessage response = await _client.GetAsync(url);
                        string body = await response.Content.ReadAsStringAsync();
                        if (!response.IsSuccessStatusCode || response.Version.Major != 2)
                        {
                            Failures.Add($"status {(int)response.StatusCode} over HTTP/{response.Version}");
                        }

                        Seen.Add(read(response, body));
                    }
                    catch (HttpRequestException ex)
                    {
                        Failures.Add(ex.Message);
                    }
                }
            })).ToArray();
        }

        public ConcurrentBag<string> Seen { get; } = [];

        public ConcurrentBag<string> Failures { get; } = [];

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_loops);
            _client.Dispose();
        }
    }

    [Fact]
    public async Task EditedScript_ServesTheNextStreams_OfTheSameConnection_WithoutAFailedStream()
    {
        using var scripts = new ScriptFolder();
        string path = scripts.Write("version.csx", "Response.Headers.Set(\"X-Version\", \"1\");\n");
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(scripts.Config(origin.Address, "response_analyzers = [\"version.csx\"]", hotReload: true));
        H2Traffic traffic = new(proxy, (r, _) => r.Headers.TryGetValues("X-Version", out var v) ? v.First() : "-");
        await Wait.UntilAsync(() => traffic.Seen.Contains("1"), "version 1 serving");

        await File.WriteAllTextAsync(path, "Response.Headers.Set(\"X-Version\", \"2\");\n");
        await Wait.UntilAsync(() => traffic.Seen.Contains("2"), "version 2 serving after the edit", TimeSpan.FromSeconds(30));
        await File.WriteAllTextAsync(path, "Response.Headers.Set(\"X-Version\", \"3\");\n");
        await Wait.UntilAsync(() => traffic.Seen.Contains("3"), "version 3 serving after the second edit", TimeSpan.FromSeconds(30));
        int before = traffic.Seen.Count;
        await Wait.UntilAsync(() => traffic.Seen.Count > before + 50, "more streams after the reloads");
        await traffic.DisposeAsync();

        Assert.Empty(traffic.Failures);
        Assert.DoesNotContain("-", traffic.Seen);
        Assert.Single(ClientsInTheLog(proxy));
    }

    [Fact]
    public async Task ReplacedAnalyzerPlugin_ServesTheNextStreams_OfTheSameConnection_WithoutAFailedStream()
    {
        using var plugins = new TempDirectory();
        using var staging = new TempDirectory();
        PluginFactory.Build(plugins.Path, "Stamp", PluginFactory.StampSource("stamp", "X-Version", "\"v1\""));
        await using var origin = new HttpOrigin(async (request, socket) =>
        {
            string body = request.Header("X-Version") ?? "-";
            await socket.SendAllAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\n\r\n{body}"));
            return true;
        });
        string toml = RunningProxy.GlobalSection(extra: "hot_reload = true", plugins: plugins.Path) + $$"""
            [[listener]]
            name = "web"
            bind = ["127.0.0.1:0"]
            supervisor = "http"
            backend = "app"
            request_analyzers = ["stamp"]

            [[backend]]
            name = "app"
            servers = [{ name = "origin", address = "{{origin.Address}}" }]
            """;
        await using RunningProxy proxy = await RunningProxy.StartAsync(toml);
        H2Traffic traffic = new(proxy, (_, body) => body);
        await Wait.UntilAsync(() => traffic.Seen.Contains("v1"), "v1 serving");
        WeakReference first = LoadContextOf(proxy, "Stamp");

        string v2 = PluginFactory.Build(staging.Path, "Stamp", PluginFactory.StampSource("stamp", "X-Version", "\"v2\""));
        File.Copy(Path.Combine(v2, "Stamp.dll"), Path.Combine(plugins.Path, "Stamp", "Stamp.dll"), overwrite: true);
        await Wait.UntilAsync(() => traffic.Seen.Contains("v2"), $"v2 serving after the swap; log:\n{proxy.Logs.Dump()}", TimeSpan.FromSeconds(30));
        int before = traffic.Seen.Count;
        await Wait.UntilAsync(() => traffic.Seen.Count > before + 50, "more streams after the swap");

        // The connection is still open and busy: neither it nor its kept stream runners keep the first version loaded.
        await Wait.UntilAsync(() =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return !first.IsAlive;
        }, "the first version to be collected while the HTTP/2 connection goes on", TimeSpan.FromSeconds(20));
        await traffic.DisposeAsync();

        Assert.Empty(traffic.Failures);
        Assert.DoesNotContain("-", traffic.Seen);
        Assert.Single(ClientsInTheLog(proxy));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference LoadContextOf(RunningProxy proxy, string plugin) =>
        proxy.Host.Plugins.Plugins.First(p => p.Name == plugin).LoadContext;

    /// <summary>The client addresses of the HTTP/2 streams' log lines: one when every stream came on the same connection.</summary>
    private static string[] ClientsInTheLog(RunningProxy proxy) =>
        proxy.AccessLog.Lines.Where(l => l.EndsWith(" HTTP/2.0\"", StringComparison.Ordinal)).Select(l => l.Split(' ')[0]).Distinct().ToArray();
}
