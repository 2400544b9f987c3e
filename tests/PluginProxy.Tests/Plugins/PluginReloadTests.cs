using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.Logging;
using PluginProxy.Host.Plugins;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Plugins;

/// <summary>
/// Plugins dropped into, replaced in and removed from the plugins folder of a running proxy with hot reload on:
/// plugins are built from source at test time (<see cref="PluginFactory"/>) and sessions are real sockets.
/// </summary>
[Collection(ForcesGarbageCollection.Name)]
public class PluginReloadTests
{
    private const string PluginLog = "PluginProxy.Plugins";

    /// <summary>A proxy watching its own plugins folder, with one listener per supervisor named.</summary>
    private sealed class Fixture : IAsyncDisposable
    {
        private readonly TempDirectory _staging = new();
        private readonly TempDirectory _plugins = new();

        private Fixture()
        {
        }

        public RunningProxy Proxy { get; private set; } = null!;

        /// <summary>The watched plugins folder.</summary>
        public string Plugins => _plugins.Path;

        /// <summary>A folder beside it (same file system) where builds are made before they are copied or moved in.</summary>
        public string Staging => _staging.Path;

        public static async Task<Fixture> StartAsync(Action<string>? preparePlugins = null, params string[] supervisors)
        {
            var fixture = new Fixture();
            preparePlugins?.Invoke(fixture.Plugins);
            fixture.Proxy = await RunningProxy.StartAsync(fixture.Config(supervisors));
            return fixture;
        }

        /// <summary>A configuration with a <c>tcp</c> listener "base" and a listener per supervisor, named after it.</summary>
        public string Config(params string[] supervisors)
        {
            var toml = new StringBuilder(RunningProxy.GlobalSection(extra: "hot_reload = true", plugins: Plugins));
            foreach (string supervisor in supervisors.Prepend("tcp"))
            {
                toml.Append($$"""
                    [[listener]]
                    name = "{{(supervisor == "tcp" ? "base" : supervisor)}}"
                    bind = ["127.0.0.1:0"]
                    supervisor = "{{supervisor}}"
                    backend = "app"

                    """);
            }

            toml.Append("""
                [[backend]]
                name = "app"
                servers = [{ name = "a", address = "127.0.0.1:9" }]
                """);
            return toml.ToString();
        }

        /// <summary>Rewrites proxy.toml to name <paramref name="supervisors"/> and reloads it, as SIGHUP does.</summary>
        public async Task ReconfigureAsync(params string[] supervisors)
        {
            File.WriteAllText(Path.Combine(Proxy.Directory, "proxy.toml"), Config(supervisors));
            Assert.Empty(await Proxy.Host.ReloadConfigurationAsync());
        }

        /// <summary>Builds a plugin in the staging folder (not yet seen by the proxy) and returns its folder.</summary>
        public string Stage(string name, string source, string? sdk = null, params string[] dependencies)
        {
            string folder = Path.Combine(Staging, Guid.NewGuid().ToString("N")[..8]);
            return PluginFactory.Build(folder, name, source, sdk, dependencies);
        }

        public LoadedPlugin? Current(string name) => Proxy.Host.Plugins.Plugins.FirstOrDefault(p => p.Name == name);

        /// <summary>Waits until a version of <paramref name="name"/> newer than <paramref name="than"/> is loaded.</summary>
        public async Task<LoadedPlugin> WaitForVersionAsync(string name, int than = 0)
        {
            await Wait.UntilAsync(() => Current(name)?.Generation > than, $"a new version of plugin {name} to load; log:\n{Proxy.Logs.Dump()}");
            return Current(name)!;
        }

        public async ValueTask DisposeAsync()
        {
            await Proxy.DisposeAsync();
            _plugins.Dispose();
            _staging.Dispose();
        }
    }

    /// <summary>A client of the greeter supervisor: reads its greeting, then sends lines and reads the echoes.</summary>
    private sealed class GreeterClient : IDisposable
    {
        private readonly Socket _socket;

        private GreeterClient(Socket socket, string greeting)
        {
            _socket = socket;
            Greeting = greeting;
        }

        public string Greeting { get; }

        public static async Task<GreeterClient> ConnectAsync(RunningProxy proxy, string listener)
        {
            Socket socket = await proxy.ConnectAsync(listener);
            return new GreeterClient(socket, await ReadLineAsync(socket));
        }

        public async Task<string> SayAsync(string line)
        {
            await _socket.SendAllAsync(Encoding.ASCII.GetBytes(line + "\n"));
            return await ReadLineAsync(_socket);
        }

        public async Task SendAsync(string line) => await _socket.SendAllAsync(Encoding.ASCII.GetBytes(line + "\n"));

        public Task<bool> WaitForCloseAsync() => _socket.WaitForCloseAsync();

        private static async Task<string> ReadLineAsync(Socket socket)
        {
            var line = new StringBuilder();
            while (true)
            {
                byte[] one = await socket.ReadExactlyAsync(1);
                if (one[0] == '\n')
                {
                    return line.ToString();
                }

                line.Append((char)one[0]);
            }
        }

        public void Dispose() => _socket.Dispose();
    }

    private static string Greeter(string version, string extra = "") => PluginFactory.GreeterSource($"\"{version}\"", extra: extra);

    /// <summary>Connects new sessions until one is greeted with <paramref name="greeting"/>.</summary>
    private static async Task WaitForGreetingAsync(RunningProxy proxy, string listener, string greeting)
    {
        string last = "";
        await Wait.UntilAsync(() =>
        {
            using GreeterClient client = GreeterClient.ConnectAsync(proxy, listener).GetAwaiter().GetResult();
            last = client.Greeting;
            return last == greeting;
        }, $"new sessions to be greeted with {greeting} (last: {last}); log:\n{proxy.Logs.Dump()}");
    }

    private static async Task WaitCollectedAsync(WeakReference context, string what)
    {
        await Wait.UntilAsync(() =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return !context.IsAlive;
        }, what, TimeSpan.FromSeconds(20));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (int Generation, WeakReference Context) Snapshot(Fixture fixture, string name)
    {
        LoadedPlugin plugin = fixture.Current(name) ?? throw new InvalidOperationException($"plugin {name} is not loaded");
        return (plugin.Generation, plugin.LoadContext);
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.EnumerateFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PluginDroppedIn_IsLoadedWithoutRestart_AndUsableByAConfigReloadNamingIt(bool atomicMove)
    {
        await using Fixture fixture = await Fixture.StartAsync();
        Assert.Null(fixture.Current("Greeter"));
        string built = fixture.Stage("Greeter", Greeter("v1"));

        if (atomicMove)
        {
            // mv of a complete folder: one rename, the plugin appears whole.
            Directory.Move(built, Path.Combine(fixture.Plugins, "Greeter"));
        }
        else
        {
            // cp -r: the folder appears first, its files after.
            CopyFolder(built, Path.Combine(fixture.Plugins, "Greeter"));
        }

        LoadedPlugin loaded = await fixture.WaitForVersionAsync("Greeter");
        Assert.Equal(["greeter"], loaded.Supervisors.Keys);
        Assert.Contains(fixture.Proxy.Logs.Category(PluginLog), l => l.Contains("Plugin Greeter version") && l.Contains("supervisors [greeter]"));

        await fixture.ReconfigureAsync("greeter");
        using GreeterClient client = await GreeterClient.ConnectAsync(fixture.Proxy, "greeter");
        Assert.Equal("v1-hello", client.Greeting);
        Assert.Equal("v1:ping", await client.SayAsync("ping"));
    }

    [Fact]
    public async Task ChangedBuild_ServesNewSessions_WhileARunningSessionFinishesOnTheOldVersion_ThenTheOldIsCollected()
    {
        await using Fixture fixture = await Fixture.StartAsync(
            plugins => PluginFactory.Build(plugins, "Greeter", Greeter("v1")), "greeter");
        (int firstGeneration, WeakReference firstContext) = Snapshot(fixture, "Greeter");
        using GreeterClient longSession = await GreeterClient.ConnectAsync(fixture.Proxy, "greeter");
        Assert.Equal("v1-hello", longSession.Greeting);

        // A new build overwrites the assembly in place (it was loaded from memory, so that is safe).
        string v2 = fixture.Stage("Greeter", Greeter("v2"));
        File.Copy(Path.Combine(v2, "Greeter.dll"), Path.Combine(fixture.Plugins, "Greeter", "Greeter.dll"), overwrite: true);

        await fixture.WaitForVersionAsync("Greeter", firstGeneration);
        await WaitForGreetingAsync(fixture.Proxy, "greeter", "v2-hello");

        // The session started before the swap still runs the old code, and keeps it loaded.
        Assert.Equal("v1:still here", await longSession.SayAsync("still here"));
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.True(firstContext.IsAlive, "the old version must stay loaded while a session uses it");

        // It ends: the old version unloads and is collected, which the proxy proves and logs.
        longSession.Dispose();
        await WaitCollectedAsync(firstContext, "the first version's load context to be collected");
        await fixture.Proxy.Logs.WaitForAsync(PluginLog, l => l == $"Plugin Greeter version {firstGeneration} collected", "the collection to be logged");
        using GreeterClient after = await GreeterClient.ConnectAsync(fixture.Proxy, "greeter");
        Assert.Equal("v2:ok", await after.SayAsync("ok"));
    }

    public static TheoryData<string, string> BrokenBuilds => new()
    {
        { "garbage", "is not a loadable .NET assembly" },
        { "throwing constructor", "failed to load: InvalidOperationException: the constructor says no" },
        { "older SDK major", "built against PluginProxy.Abstractions 1.6, but this host provides PluginProxy.Abstractions 2." },
        { "newer SDK major", "built against PluginProxy.Abstractions 3.0, but this host provides PluginProxy.Abstractions 2." },
    };

    [Theory]
    [MemberData(nameof(BrokenBuilds))]
    public async Task BrokenBuild_IsRefusedWithALoggedError_AndTheOldVersionKeepsServing(string broken, string expectedError)
    {
        await using Fixture fixture = await Fixture.StartAsync(
            plugins => PluginFactory.Build(plugins, "Greeter", Greeter("v1")), "greeter");
        (int generation, _) = Snapshot(fixture, "Greeter");

        string target = Path.Combine(fixture.Plugins, "Greeter", "Greeter.dll");
        switch (broken)
        {
            case "garbage":
                File.WriteAllText(target, "MZ this is not an assembly");
                break;
            case "throwing constructor":
                string throwing = fixture.Stage("Greeter", Greeter("v2", extra: "public Greeter() { throw new InvalidOperationException(\"the constructor says no\"); }"));
                File.Copy(Path.Combine(throwing, "Greeter.dll"), target, overwrite: true);
                break;
            case "older SDK major" or "newer SDK major":
                // A plugin built against an SDK of another major than this host's (2.x): 1.6, the last before it, or a future 3.0.
                string version = broken.StartsWith("older", StringComparison.Ordinal) ? "1.6.0.0" : "3.0.0.0";
                string sdk = PluginFactory.Library(Path.Combine(fixture.Staging, "sdk-" + version), "PluginProxy.Abstractions", $$"""
                    [assembly: System.Reflection.AssemblyVersion("{{version}}")]
                    namespace PluginProxy.Abstractions { public interface IPlugin { } }
                    """);
                string other = fixture.Stage("Greeter", "public sealed class OtherSdkPlugin : PluginProxy.Abstractions.IPlugin { }", sdk: sdk);
                File.Copy(Path.Combine(other, "Greeter.dll"), target, overwrite: true);
                break;
        }

        string error = await fixture.Proxy.Logs.WaitForAsync(PluginLog, l => l.Contains("Plugin refused"), "the broken build to be refused");
        Assert.Contains(target, error);
        Assert.Contains(expectedError, error);
        Assert.Contains("the current version (if any) keeps serving", error);
        Assert.Contains(fixture.Proxy.Logs.Lines, l => l.Level == LogLevel.Error && l.Message == error);

        Assert.Equal(generation, Snapshot(fixture, "Greeter").Generation);
        using GreeterClient client = await GreeterClient.ConnectAsync(fixture.Proxy, "greeter");
        Assert.Equal("v1-hello", client.Greeting);

        // A fixed build then goes in as usual.
        string fixedBuild = fixture.Stage("Greeter", Greeter("v3"));
        File.Copy(Path.Combine(fixedBuild, "Greeter.dll"), target, overwrite: true);
        await fixture.WaitForVersionAsync("Greeter", generation);
        await WaitForGreetingAsync(fixture.Proxy, "greeter", "v3-hello");
    }

    [Fact]
    public async Task TwoPluginsCarryingDifferentVersionsOfTheSameDependency_WorkSideBySide()
    {
        using var libraries = new TempDirectory();
        string dep1 = PluginFactory.Library(Path.Combine(libraries.Path, "v1"), "Shared.Dep", """
            [assembly: System.Reflection.AssemblyVersion("1.0.0.0")]
            public static class Dep { public static string Describe() => "dep-1.0"; }
            """);
        string dep2 = PluginFactory.Library(Path.Combine(libraries.Path, "v2"), "Shared.Dep", """
            [assembly: System.Reflection.AssemblyVersion("2.0.0.0")]
            public static class Dep { public static string Describe(string who) => "dep-2.0 for " + who; }
            """);

        await using Fixture fixture = await Fixture.StartAsync(plugins =>
        {
            // Each plugin calls an API only its own version of the dependency has.
            PluginFactory.Build(plugins, "Alpha", PluginFactory.GreeterSource("Dep.Describe()", supervisor: "alpha"), null, dep1);
            PluginFactory.Build(plugins, "Beta", PluginFactory.GreeterSource("Dep.Describe(\"beta\")", supervisor: "beta"), null, dep2);
        }, "alpha", "beta");

        using GreeterClient alpha = await GreeterClient.ConnectAsync(fixture.Proxy, "alpha");
        using GreeterClient beta = await GreeterClient.ConnectAsync(fixture.Proxy, "beta");

        Assert.Equal("dep-1.0-hello", alpha.Greeting);
        Assert.Equal("dep-2.0 for beta-hello", beta.Greeting);
        Assert.Equal("dep-1.0:a", await alpha.SayAsync("a"));
        Assert.Equal("dep-2.0 for beta:b", await beta.SayAsync("b"));
    }

    [Fact]
    public async Task SupervisorThatThrows_EndsOnlyItsOwnSession()
    {
        await using Fixture fixture = await Fixture.StartAsync(
            plugins => PluginFactory.Build(plugins, "Greeter", Greeter("v1")), "greeter");
        using GreeterClient victim = await GreeterClient.ConnectAsync(fixture.Proxy, "greeter");
        using GreeterClient bystander = await GreeterClient.ConnectAsync(fixture.Proxy, "greeter");

        await victim.SendAsync("boom");

        Assert.True(await victim.WaitForCloseAsync(), "the session whose supervisor threw must be closed");
        string failure = await fixture.Proxy.Logs.WaitForAsync("PluginProxy.Listener", l => l.StartsWith("Supervisor \"greeter\" from Greeter (version"), "the failure to be logged");
        Assert.Contains("the greeter blew up", failure);
        await fixture.Proxy.Logs.WaitForSessionAsync(l => l.Contains("the greeter blew up"), "the session line to say why it ended");
        Assert.Equal("v1:unaffected", await bystander.SayAsync("unaffected"));
        using GreeterClient next = await GreeterClient.ConnectAsync(fixture.Proxy, "greeter");
        Assert.Equal("v1:fine", await next.SayAsync("fine"));
    }

    [Fact]
    public async Task RemovedPluginFolder_UnloadsOnceNoListenerAndNoSessionUsesIt()
    {
        await using Fixture fixture = await Fixture.StartAsync(
            plugins => PluginFactory.Build(plugins, "Greeter", Greeter("v1")), "greeter");
        (_, WeakReference context) = Snapshot(fixture, "Greeter");
        using GreeterClient session = await GreeterClient.ConnectAsync(fixture.Proxy, "greeter");

        Directory.Delete(Path.Combine(fixture.Plugins, "Greeter"), recursive: true);
        await fixture.Proxy.Logs.WaitForAsync(PluginLog, l => l.StartsWith("Plugin Greeter was removed"), "the removal to be noticed");
        Assert.Null(fixture.Current("Greeter"));

        // The listener that names it keeps it until the configuration stops naming it; then only the session holds it.
        await fixture.ReconfigureAsync();
        Assert.Null(fixture.Proxy.Host.FindListener("greeter"));
        Assert.Equal("v1:last words", await session.SayAsync("last words"));
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.True(context.IsAlive, "a session still uses the removed plugin");

        session.Dispose();
        await WaitCollectedAsync(context, "the removed plugin's load context to be collected");
    }

    [Fact]
    public async Task VersionThatCannotBeCollected_IsReportedAsALeakNamingThePlugin()
    {
        // A handler on a process-wide event roots the plugin's object, and through it its load context, forever.
        const string leaky = """
            public Greeter() { System.AppDomain.CurrentDomain.ProcessExit += OnExit; }

            private void OnExit(object sender, System.EventArgs e) { }
            """;
        await using Fixture fixture = await Fixture.StartAsync(
            plugins => PluginFactory.Build(plugins, "Leaky", PluginFactory.GreeterSource("\"v1\"", supervisor: "leaky", extra: leaky)), "leaky");
        LoadedPlugin first = fixture.Current("Leaky")!;
        first.CollectionDeadline = TimeSpan.FromSeconds(1);
        int generation = first.Generation;
        first = null!;

        string v2 = fixture.Stage("Leaky", PluginFactory.GreeterSource("\"v2\"", supervisor: "leaky"));
        File.Copy(Path.Combine(v2, "Leaky.dll"), Path.Combine(fixture.Plugins, "Leaky", "Leaky.dll"), overwrite: true);

        string leak = await fixture.Proxy.Logs.WaitForAsync(PluginLog, l => l.Contains("is still in memory"), "the leak to be reported", TimeSpan.FromSeconds(30));
        Assert.StartsWith($"Plugin Leaky version {generation} is still in memory", leak);
        Assert.Contains("a handler on a static event", leak);
        Assert.Contains(fixture.Proxy.Logs.Lines, l => l.Level == LogLevel.Warning && l.Message == leak);
        await WaitForGreetingAsync(fixture.Proxy, "leaky", "v2-hello");
    }
}
