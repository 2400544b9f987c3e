using System.Net.Sockets;
using System.Runtime.CompilerServices;
using PluginProxy.Host.Backends;
using PluginProxy.Host.Plugins;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Plugins;

/// <summary>
/// The health checker finds the probe of http checks among the loaded plugins at each check: a replaced http plugin
/// serves the next checks, and the replaced version unloads and is collected while checks go on, so the checker never
/// pins it.
/// </summary>
[Collection(ForcesGarbageCollection.Name)]
public class HealthProbeReloadTests
{
    private const string Http = "PluginProxy.Http";

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (int Generation, WeakReference Context, string AssemblyPath) Snapshot(RunningProxy proxy)
    {
        LoadedPlugin plugin = proxy.Host.Plugins.Plugins.Single(p => p.Name == Http);
        return (plugin.Generation, plugin.LoadContext, plugin.AssemblyPath);
    }

    [Fact]
    public async Task ReplacedHttpPlugin_ServesTheNextChecks_AndTheOldVersionIsCollected_WhileChecksGoOn()
    {
        using var plugins = new TempDirectory();
        string folder = Path.Combine(plugins.Path, Http);
        string built = Path.Combine(RepoPaths.PluginsBin, Http);
        Directory.CreateDirectory(folder);
        foreach (string file in Directory.EnumerateFiles(built))
        {
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        }

        int checks = 0;
        await using var stub = new StubServer(async socket =>
        {
            var buffer = new byte[1024];
            var head = new List<byte>();
            while (head.Count < 4 || !head.TakeLast(4).SequenceEqual("\r\n\r\n"u8.ToArray()))
            {
                int n = await socket.ReceiveAsync(buffer, SocketFlags.None);
                if (n == 0)
                {
                    return;
                }

                head.AddRange(buffer.AsSpan(0, n));
            }

            Interlocked.Increment(ref checks);
            await socket.SendAllAsync("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"u8.ToArray());
        });

        // The folder's copy of the http plugin replaces the built-in one; nothing but the checks uses it.
        await using RunningProxy proxy = await RunningProxy.StartAsync($$"""
            {{RunningProxy.GlobalSection(extra: "hot_reload = true", plugins: plugins.Path)}}
            [[listener]]
            name = "base"
            bind = ["127.0.0.1:0"]
            supervisor = "tcp"
            backend = "app"

            [[backend]]
            name = "app"
            servers = [{ name = "origin", address = "{{stub.Address}}" }]
            check = { kind = "http", path = "/health", interval = "20ms", timeout = "10s", rise = 1, fall = 1 }
            """);
        var origin = (Server)proxy.Host.Backends.Find("app")!.Servers[0];
        (int first, WeakReference firstContext, string firstPath) = Snapshot(proxy);
        Assert.StartsWith(folder, firstPath);
        await Wait.UntilAsync(() => Volatile.Read(ref checks) >= 3, "three checks through the first version");

        // A new build lands (the same code, a newer file): it is loaded beside the first and swapped in.
        string assembly = Path.Combine(folder, Http + ".dll");
        File.Copy(Path.Combine(built, Http + ".dll"), assembly, overwrite: true);
        File.SetLastWriteTimeUtc(assembly, DateTime.UtcNow.AddMinutes(1));
        await Wait.UntilAsync(() => Snapshot(proxy).Generation > first, $"a new version of the http plugin; log:\n{proxy.Logs.Dump()}");

        // The first version goes while checks keep running every 20 ms; the new one answers them.
        int before = Volatile.Read(ref checks);
        await Wait.UntilAsync(() =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return !firstContext.IsAlive;
        }, "the first version of the http plugin to be collected while checks run", TimeSpan.FromSeconds(20));
        await proxy.Logs.WaitForAsync("PluginProxy.Plugins", l => l == $"Plugin {Http} version {first} collected", "the collection to be logged");
        await Wait.UntilAsync(() => Volatile.Read(ref checks) >= before + 3, "checks to go on through the new version");

        Assert.True(origin.IsUp, $"down: {origin.LastCheckFailure}");
        Assert.Null(origin.LastCheckFailure);
        Assert.DoesNotContain(proxy.Logs.Lines, l => l.Message.Contains("is DOWN"));
    }
}
