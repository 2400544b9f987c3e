using System.Diagnostics;
using System.Runtime.Loader;
using PluginProxy.Host.Scripting;
using PluginProxy.Tests.Infrastructure;
using Xunit.Abstractions;

namespace PluginProxy.Tests.Scripting;

/// <summary>Scripts changed while traffic flows: recompiled in the background, swapped in cleanly, old versions collected.</summary>
[Collection(ForcesGarbageCollection.Name)]
public class ScriptReloadTests(ITestOutputHelper output)
{
    private static string VersionRule(string version) => $"Response.Headers.Set(\"X-Version\", \"{version}\");\n";

    /// <summary>Sends requests on one keep-alive connection until stopped, recording each X-Version answer and any failure.</summary>
    private sealed class Traffic : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;

        public Traffic(RunningProxy proxy)
        {
            _loop = Task.Run(async () =>
            {
                using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{proxy.EndPoint().Port}/") };
                while (!_stop.IsCancellationRequested)
                {
                    try
                    {
                        HttpResponseMessage response = await http.GetAsync("x");
                        if (!response.IsSuccessStatusCode)
                        {
                            Failures.Add($"status {(int)response.StatusCode}");
                        }

                        Versions.Add(response.Headers.TryGetValues("X-Version", out var v) ? v.First() : "-");
                    }
                    catch (HttpRequestException ex)
                    {
                        Failures.Add(ex.Message);
                    }
                }
            });
        }

        public System.Collections.Concurrent.ConcurrentQueue<string> VersionsQueue { get; } = new();

        public System.Collections.Concurrent.ConcurrentBag<string> Versions { get; } = [];

        public System.Collections.Concurrent.ConcurrentBag<string> Failures { get; } = [];

        public async ValueTask DisposeAsync()
        {
            _stop.Cancel();
            await _loop;
        }
    }

    [Fact]
    public async Task EditedScript_ServesNewStreams_WithoutAFailedRequest_AndABrokenEditKeepsTheOldVersion()
    {
        using var scripts = new ScriptFolder();
        string path = scripts.Write("version.csx", VersionRule("1"));
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(scripts.Config(origin.Address, "response_analyzers = [\"version.csx\"]", hotReload: true));
        Traffic traffic = new(proxy);
        await Wait.UntilAsync(() => traffic.Versions.Contains("1"), "version 1 serving");

        // An in-place edit.
        var changed = Stopwatch.StartNew();
        await File.WriteAllTextAsync(path, VersionRule("2"));
        await Wait.UntilAsync(() => traffic.Versions.Contains("2"), "version 2 serving after the edit", TimeSpan.FromSeconds(30));
        output.WriteLine($"in-place edit: new version served {changed.ElapsedMilliseconds} ms after the change");

        // A broken edit: refused, version 2 keeps serving.
        await File.WriteAllTextAsync(path, "Response.Headers.Set(\"X-Version\", ;\n");
        await proxy.Logs.WaitForAsync("PluginProxy.Scripts", l => l.Contains("reload refused") && l.Contains("version.csx:1:"), "the refused reload", TimeSpan.FromSeconds(30));
        int before = traffic.Versions.Count;
        await Wait.UntilAsync(() => traffic.Versions.Count > before + 20, "more requests after the broken edit");

        // An atomic replacement (write elsewhere, rename over): seen as well.
        changed.Restart();
        string temporary = Path.Combine(scripts.Path, "version.csx.tmp");
        await File.WriteAllTextAsync(temporary, VersionRule("3"));
        File.Move(temporary, path, overwrite: true);
        await Wait.UntilAsync(() => traffic.Versions.Contains("3"), "version 3 serving after the rename", TimeSpan.FromSeconds(30));
        output.WriteLine($"atomic rename: new version served {changed.ElapsedMilliseconds} ms after the change");
        await traffic.DisposeAsync();

        Assert.Empty(traffic.Failures);
        Assert.DoesNotContain("-", traffic.Versions);
        output.WriteLine($"{traffic.Versions.Count} requests, {traffic.Failures.Count} failed");
    }

    [Fact]
    public async Task ReplacedVersion_IsUnloadedAndCollected_OnceItsLastStreamEnded()
    {
        using var scripts = new ScriptFolder();
        string path = scripts.Write("collect.csx", VersionRule("old"));
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(scripts.Config(origin.Address, "response_analyzers = [\"collect.csx\"]"));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);
        await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.Equal("old", (await client.ReadResponseAsync()).Header("X-Version"));
        WeakReference oldContext = ContextOf(proxy.Host.Scripts, path);

        await File.WriteAllTextAsync(path, VersionRule("new"));
        Assert.True(await proxy.Host.Scripts.ReloadAsync(Path.GetFullPath(path)));

        // The same keep-alive connection moves to the new version with its next request.
        await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.Equal("new", (await client.ReadResponseAsync()).Header("X-Version"));
        await Wait.UntilAsync(() =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return !oldContext.IsAlive;
        }, "the old script version's load context to be collected");
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference ContextOf(ScriptCatalog catalog, string path) =>
        catalog.Scripts.Single(s => s.Path == Path.GetFullPath(path)).LoadContext;

    [Fact]
    public async Task TwoHundredReloads_LeaveLoadedAssembliesAndTheHeapBounded()
    {
        using var scripts = new ScriptFolder();
        string path = Path.GetFullPath(scripts.Write("churn.csx", VersionRule("0")));
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(scripts.Config(origin.Address, "response_analyzers = [\"churn.csx\"]"));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);
        (int contexts, int assemblies, long heap) = Measure();
        output.WriteLine($"before: {contexts} script contexts, {assemblies} assemblies, {heap / 1024} KiB heap");
        var watch = Stopwatch.StartNew();

        for (int i = 1; i <= 200; i++)
        {
            await File.WriteAllTextAsync(path, VersionRule(i.ToString()));
            Assert.True(await proxy.Host.Scripts.ReloadAsync(path));
            if (i % 20 == 0)
            {
                await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
                Assert.Equal(i.ToString(), (await client.ReadResponseAsync()).Header("X-Version"));
            }
        }

        (int contextsAfter, int assembliesAfter, long heapAfter) = Measure();
        output.WriteLine($"after 200 reloads in {watch.Elapsed.TotalSeconds:0.0} s: {contextsAfter} script contexts, {assembliesAfter} assemblies, {heapAfter / 1024} KiB heap");
        Assert.True(contextsAfter <= contexts + 2, $"{contextsAfter} contexts of the script still loaded (started with {contexts})");
        Assert.True(assembliesAfter <= assemblies + 2, $"{assembliesAfter} assemblies of the script loaded (started with {assemblies})");
        Assert.True(heapAfter < heap + 64 * 1024 * 1024, $"heap grew from {heap / 1024} to {heapAfter / 1024} KiB");
    }

    private static (int Contexts, int Assemblies, long Heap) Measure()
    {
        for (int i = 0; i < 5; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        // Only this test's script ("churn.csx"): other tests load scripts and plugins in the same process meanwhile.
        List<AssemblyLoadContext> churn = AssemblyLoadContext.All.Where(c => c is ScriptLoadContext && c.Name?.StartsWith("script:churn.csx#", StringComparison.Ordinal) == true).ToList();
        return (churn.Count, churn.Sum(c => c.Assemblies.Count()), GC.GetTotalMemory(forceFullCollection: true));
    }
}
