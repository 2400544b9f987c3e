using System.Diagnostics;
using System.Runtime.CompilerServices;
using PluginProxy.Host.Plugins;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Plugins;

/// <summary>
/// What retiring a plugin version costs the sessions that keep running: its StopAsync never runs on the thread that
/// dropped the last reference (often a socket thread), and proving it was collected forces few collections. Counts
/// collections, so it runs in the collection that never runs beside others.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class PluginRetirementTests : IDisposable
{
    private readonly TempDirectory _plugins = new();
    private readonly TempDirectory _staging = new();

    public void Dispose()
    {
        _plugins.Dispose();
        _staging.Dispose();
    }

    /// <summary>A plugin whose StopAsync blocks for two seconds and records the thread it ran on (in AppContext, shared by every load context).</summary>
    private static string BlockingStop(string version, string key) => $$"""
        using System;
        using System.Net.Sockets;
        using System.Text;
        using System.Threading;
        using System.Threading.Tasks;
        using PluginProxy.Abstractions;

        public sealed class StopperPlugin : IPlugin
        {
            public void Configure(IPluginBuilder builder) => builder.AddSupervisor<Stopper>("stopper");

            public ValueTask StopAsync(CancellationToken cancellationToken)
            {
                // Synchronous work while stopping (a flush, sync over async): it must never hold a socket thread.
                AppContext.SetData("{{key}}.thread", Environment.CurrentManagedThreadId);
                Thread.Sleep(2000);
                AppContext.SetData("{{key}}.stopped", true);
                return ValueTask.CompletedTask;
            }
        }

        public sealed class Stopper : IProtocolSupervisor
        {
            public async ValueTask RunAsync(ISession session) =>
                await session.Connection.Socket.SendAsync(Encoding.ASCII.GetBytes("{{version}}\n"), SocketFlags.None);
        }
        """;

    private Task<RunningProxy> StartAsync(string supervisor) => RunningProxy.StartAsync(RunningProxy.GlobalSection(extra: "hot_reload = true", plugins: _plugins.Path) + $$"""
        [[listener]]
        name = "{{supervisor}}"
        bind = ["127.0.0.1:0"]
        supervisor = "{{supervisor}}"
        backend = "app"

        [[backend]]
        name = "app"
        servers = [{ name = "a", address = "127.0.0.1:9" }]
        """);

    private static LoadedPlugin? Current(RunningProxy proxy, string name) => proxy.Host.Plugins.Plugins.FirstOrDefault(p => p.Name == name);

    /// <summary>Copies a build staged beside the plugins folder over the running plugin's assembly.</summary>
    private void Deploy(string name, string source)
    {
        string built = PluginFactory.Build(Path.Combine(_staging.Path, Guid.NewGuid().ToString("N")), name, source);
        File.Copy(Path.Combine(built, name + ".dll"), Path.Combine(_plugins.Path, name, name + ".dll"), overwrite: true);
    }

    [Fact]
    public async Task RetiredVersion_StopsOnAThreadOfItsOwn_NotOnTheThreadThatDroppedTheLastReference()
    {
        string key = "PluginRetirementTests." + Guid.NewGuid().ToString("N");
        PluginFactory.Build(_plugins.Path, "Stopper", BlockingStop("v1", key));
        await using RunningProxy proxy = await StartAsync("stopper");
        LoadedPlugin first = Current(proxy, "Stopper")!;
        // The test holds a reference on the first version, as a session accepted before the swap does.
        Assert.True(first.TryAcquire());

        Deploy("Stopper", BlockingStop("v2", key));
        await Wait.UntilAsync(() => Current(proxy, "Stopper")?.Generation > first.Generation, "the new build to load");
        await Wait.UntilAsync(() => first.References == 1, "the old version to be held by the test alone");

        // The last reference goes, as when that session ends on its socket thread.
        int releasing = Environment.CurrentManagedThreadId;
        var watch = Stopwatch.StartNew();
        first.Release();
        TimeSpan released = watch.Elapsed;

        Assert.True(released < TimeSpan.FromSeconds(1), $"dropping the last reference took {released.TotalMilliseconds:0} ms: StopAsync ran on the releasing thread");
        await Wait.UntilAsync(() => AppContext.GetData(key + ".stopped") is true, "the old version's StopAsync to run");
        Assert.NotEqual(releasing, (int)AppContext.GetData(key + ".thread")!);
        await proxy.Logs.WaitForAsync("PluginProxy.Plugins", l => l == $"Plugin Stopper version {first.Generation} unloaded", "the old version to unload");
    }

    [Fact]
    public async Task LeakedVersion_IsReportedAfterAFewCollections_NotFourEverySecond()
    {
        // A handler on a process-wide event roots the plugin's object, and through it its load context, forever.
        const string leaky = """
            public Greeter() { System.AppDomain.CurrentDomain.ProcessExit += OnExit; }

            private void OnExit(object sender, System.EventArgs e) { }
            """;
        PluginFactory.Build(_plugins.Path, "Leaky", PluginFactory.GreeterSource("\"v1\"", supervisor: "leaky", extra: leaky));
        await using RunningProxy proxy = await StartAsync("leaky");
        int generation = SetDeadline(proxy, TimeSpan.FromSeconds(6));
        string built = PluginFactory.Build(Path.Combine(_staging.Path, "v2"), "Leaky", PluginFactory.GreeterSource("\"v2\"", supervisor: "leaky"));

        // Counted by the watch itself: the process's full collections also count those other tests and allocations cause,
        // and other versions' last checks, which this test is not about.
        int before = CollectionWatch.Shared.PeriodicForces;
        File.Copy(Path.Combine(built, "Leaky.dll"), Path.Combine(_plugins.Path, "Leaky", "Leaky.dll"), overwrite: true);
        string leak = await proxy.Logs.WaitForAsync("PluginProxy.Plugins", l => l.Contains("is still in memory"), "the leak to be reported", TimeSpan.FromSeconds(30));
        int collections = CollectionWatch.Shared.PeriodicForces - before;

        Assert.StartsWith($"Plugin Leaky version {generation} is still in memory", leak);
        // Forcing a full collection four times a second would be 24 over these 6 s; the backoff (and its one-second gap
        // shared with other versions watched) allows a handful.
        Assert.True(collections <= 10, $"{collections} forced collections while a leaked version was watched for 6 s");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int SetDeadline(RunningProxy proxy, TimeSpan deadline)
    {
        LoadedPlugin plugin = Current(proxy, "Leaky")!;
        plugin.CollectionDeadline = deadline;
        return plugin.Generation;
    }
}
