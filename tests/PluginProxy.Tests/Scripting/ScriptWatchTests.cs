using System.Runtime.CompilerServices;
using PluginProxy.Host.Scripting;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Scripting;

/// <summary>With hot reload, every script of the applied configuration is followed, and its edits go live.</summary>
public class ScriptWatchTests
{
    private static string VersionRule(string version) => $"Response.Headers.Set(\"X-Version\", \"{version}\");\n";

    /// <summary>Asks for new streams on one keep-alive connection until one is served by <paramref name="version"/>.</summary>
    internal static async Task WaitForVersionAsync(RunningProxy proxy, string version, string what, TimeSpan? deadline = null)
    {
        using RawHttp client = await RawHttp.ConnectAsync(proxy);
        DateTime end = DateTime.UtcNow + (deadline ?? TimeSpan.FromSeconds(10));
        string? last = null;
        while (DateTime.UtcNow < end)
        {
            await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
            last = (await client.ReadResponseAsync()).Header("X-Version");
            if (last == version)
            {
                return;
            }

            await Task.Delay(10);
        }

        throw new TimeoutException($"Timed out waiting for: {what} (last served: {last ?? "no version"}); log:\n{proxy.Logs.Dump()}");
    }

    [Fact]
    public async Task ScriptNamedFirstByAConfigurationReload_IsFollowed_ItsEditGoesLive_AndABrokenEditIsLoggedAtItsPosition()
    {
        using var scripts = new ScriptFolder();
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(scripts.Config(origin.Address, "", hotReload: true));
        string path = scripts.Write("late.csx", VersionRule("1"));
        await File.WriteAllTextAsync(Path.Combine(proxy.Directory, "proxy.toml"), scripts.Config(origin.Address, "response_analyzers = [\"late.csx\"]", hotReload: true));
        Assert.Empty(await proxy.Host.ReloadConfigurationAsync());
        await WaitForVersionAsync(proxy, "1", "the script the reload named to serve");

        await File.WriteAllTextAsync(path, VersionRule("2"));
        await WaitForVersionAsync(proxy, "2", "the edit of a script first named by a reload to go live");

        await File.WriteAllTextAsync(path, "// broken\nResponse.Headers.Set(\"X-Version\", ;\n");
        string refused = await proxy.Logs.WaitForAsync("PluginProxy.Scripts", l => l.Contains("reload refused"), "the broken edit to be logged");
        Assert.Contains($"{path}:2:", refused);
        await WaitForVersionAsync(proxy, "2", "the previous version to keep serving");
    }

    [Fact]
    public async Task ConfigurationReload_KeepsAnUnchangedScriptsVersion_AndReleasesAScriptNoLongerNamed()
    {
        using var scripts = new ScriptFolder();
        scripts.Write("kept.csx", VersionRule("kept"));
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(scripts.Config(origin.Address, "response_analyzers = [\"kept.csx\"]"));
        string toml = Path.Combine(proxy.Directory, "proxy.toml");
        int version = VersionOf(proxy.Host.Scripts, "kept.csx");

        // Reloading a configuration whose scripts did not change loads no new version of them (each one used to stay loaded).
        for (int i = 0; i < 3; i++)
        {
            Assert.Empty(await proxy.Host.ReloadConfigurationAsync());
        }

        Assert.Equal(version, VersionOf(proxy.Host.Scripts, "kept.csx"));
        await WaitForVersionAsync(proxy, "kept", "the kept version to serve");

        // A configuration that no longer names it: the script is forgotten, and its code unloads once nothing uses it.
        WeakReference context = ContextOf(proxy.Host.Scripts, "kept.csx");
        await File.WriteAllTextAsync(toml, scripts.Config(origin.Address, ""));
        Assert.Empty(await proxy.Host.ReloadConfigurationAsync());
        Assert.Empty(proxy.Host.Scripts.Scripts);
        await Wait.UntilAsync(() =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return !context.IsAlive;
        }, "the script no longer named to be collected");
    }

    [Fact]
    public async Task EditPickedUpByARefusedConfigurationReload_StillGoesLive()
    {
        using var scripts = new ScriptFolder();
        string path = scripts.Write("rule.csx", VersionRule("1"));
        await using HttpOrigin origin = HttpOrigin.Echo();
        string config = scripts.Config(origin.Address, "response_analyzers = [\"rule.csx\"]", hotReload: true);
        await using RunningProxy proxy = await RunningProxy.StartAsync(config);
        await WaitForVersionAsync(proxy, "1", "the first version to serve");

        // The edit, and at once (within the watch's quiet period) a reload that loads it, then is refused.
        await File.WriteAllTextAsync(path, VersionRule("2"));
        await File.WriteAllTextAsync(Path.Combine(proxy.Directory, "proxy.toml"), config.Replace("[\"rule.csx\"]", "[\"rule.csx\", \"no_such_analyzer\"]"));
        Assert.NotEmpty(await proxy.Host.ReloadConfigurationAsync());

        await WaitForVersionAsync(proxy, "2", "the edit to go live though the reload that compiled it was refused");
    }

    [Fact]
    public void CompilerWarmUp_CompilesARuleCleanly() => Assert.Empty(ScriptCompiler.WarmUp());

    private static int VersionOf(ScriptCatalog catalog, string name) => catalog.Scripts.Single(s => Path.GetFileName(s.Path) == name).Version;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference ContextOf(ScriptCatalog catalog, string name) => catalog.Scripts.Single(s => Path.GetFileName(s.Path) == name).LoadContext;
}

/// <summary>Script edits under load: timing-sensitive, so never beside tests that force collections.</summary>
[Collection(TimingSensitive.Name)]
public class ScriptEditUnderLoadTests
{
    /// <summary>
    /// Keep-alive connections asking for streams as fast as the proxy answers, each response logged as a line in a file
    /// beside the script (an access log in the folder of the scripts, as when they live next to proxy.toml).
    /// </summary>
    private sealed class LoadWithLogBeside : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly StreamWriter _log;
        private readonly Task[] _clients;

        public LoadWithLogBeside(RunningProxy proxy, string logPath, int connections)
        {
            _log = new StreamWriter(logPath) { AutoFlush = true };
            _clients = Enumerable.Range(0, connections).Select(_ => Task.Run(async () =>
            {
                using RawHttp client = await RawHttp.ConnectAsync(proxy);
                while (!_stop.IsCancellationRequested)
                {
                    await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
                    RawResponse response = await client.ReadResponseAsync();
                    Interlocked.Increment(ref Requests);
                    lock (_log)
                    {
                        _log.WriteLine($"GET / {response.Status} {response.Header("X-Version")}");
                    }
                }
            })).ToArray();
        }

        public long Requests;

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_clients);
            await _log.DisposeAsync();
        }
    }

    [Fact]
    public async Task EditUnderLoad_GoesLive_InPlaceAndByRename_WhileALogIsWrittenBesideTheScript()
    {
        using var scripts = new ScriptFolder();
        string path = scripts.Write("stamp.csx", "Response.Headers.Set(\"X-Version\", \"0\");\n");
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(scripts.Config(origin.Address, "response_analyzers = [\"stamp.csx\"]", hotReload: true));
        await using (var load = new LoadWithLogBeside(proxy, Path.Combine(scripts.Path, "access.log"), connections: 8))
        {
            await Wait.UntilAsync(() => Interlocked.Read(ref load.Requests) > 100, "the load to run");

            await File.WriteAllTextAsync(path, "Response.Headers.Set(\"X-Version\", \"1\");\n");
            await ScriptWatchTests.WaitForVersionAsync(proxy, "1", "an edit in place to go live under load");

            string temporary = Path.Combine(scripts.Path, ".stamp.csx.tmp");
            await File.WriteAllTextAsync(temporary, "Response.Headers.Set(\"X-Version\", \"2\");\n");
            File.Move(temporary, path, overwrite: true);
            await ScriptWatchTests.WaitForVersionAsync(proxy, "2", "an edit by rename to go live under load");
        }
    }
}
