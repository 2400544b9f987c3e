using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging.Abstractions;
using PluginProxy.Abstractions;
using PluginProxy.Host;
using PluginProxy.Host.Backends;
using PluginProxy.Host.Configuration;
using PluginProxy.Host.Plugins;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Plugins;

[Collection(ForcesGarbageCollection.Name)]
public class PluginLoadingTests
{
    private static PluginCatalog NewCatalog() =>
        new(new PluginHostServices(NullLoggerFactory.Instance, new ServerConnector(Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance), new CapturedAccessLog(), new object()));

    private static string ConfigNaming(string supervisor, string plugins, string analyzers = "") => $$"""
        {{RunningProxy.GlobalSection(plugins: plugins)}}
        [[listener]]
        name = "in"
        bind = ["127.0.0.1:0"]
        supervisor = "{{supervisor}}"
        backend = "app"
        {{analyzers}}

        [[backend]]
        name = "app"
        servers = [{ name = "a", address = "127.0.0.1:9" }]
        """;

    private static async Task<StartupException> BuildFailsAsync(string toml, TempDirectory directory)
    {
        string path = directory.Write("proxy.toml", toml);
        ProxyConfig config = ConfigLoader.Load(path);
        return await Assert.ThrowsAsync<StartupException>(() => ProxyHost.BuildAsync(config, NullLoggerFactory.Instance, new CapturedAccessLog()));
    }

    [Fact]
    public async Task PluginsFolder_IsScanned_AndEachPluginAnnouncesWhatItProvides()
    {
        await using PluginCatalog catalog = NewCatalog();

        List<PluginLoadException> errors = await catalog.LoadFoldersAsync([RepoPaths.PluginsBin, RepoPaths.TestPluginsBin]);

        Assert.Empty(errors);
        LoadedPlugin probe = Assert.Single(catalog.Plugins, p => p.Name == "Probe");
        Assert.Equal(["probe"], probe.Supervisors.Keys);
        Assert.Equal(["contract_bypass", "contract_hold_until_go", "contract_short_timeout", "contract_throw_on_boom",
            "deny_all", "hold_until_newline", "probe_backend_from_header", "probe_frame_options", "probe_gone_for_404", "probe_logger",
            "probe_request_filter", "probe_throwing_filter", "throw_on_boom"], probe.Analyzers.Keys.Order());
        Assert.Equal(SdkCompatibility.HostSdk.Version, probe.SdkVersion);
        Assert.Contains("tcp", catalog.SupervisorNames);
    }

    [Fact]
    public async Task PluginFolderWithoutItsAssembly_IsAClearStartupError()
    {
        using var directory = new TempDirectory();
        Directory.CreateDirectory(Path.Combine(directory.Path, "plugins", "Broken"));

        StartupException error = await BuildFailsAsync(ConfigNaming("tcp", "plugins"), directory);

        string problem = Assert.Single(error.Problems);
        Assert.Contains(Path.Combine("plugins", "Broken"), problem);
        Assert.Contains("no Broken.dll in this plugin folder", problem);
    }

    [Fact]
    public async Task PluginAssemblyThatIsNotDotNet_IsRefused()
    {
        using var directory = new TempDirectory();
        directory.Write(Path.Combine("plugins", "Garbage", "Garbage.dll"), "MZ this is not an assembly");

        StartupException error = await BuildFailsAsync(ConfigNaming("tcp", "plugins"), directory);

        Assert.Contains("Garbage.dll: is not a loadable .NET assembly", Assert.Single(error.Problems));
    }

    [Fact]
    public async Task AssemblyThatDoesNotUseTheSdk_IsRefused()
    {
        using var directory = new TempDirectory();
        string folder = Path.Combine(directory.Path, "plugins", "NotAPlugin");
        Directory.CreateDirectory(folder);
        File.Copy(typeof(Tomlyn.TomlSerializer).Assembly.Location, Path.Combine(folder, "NotAPlugin.dll"));

        StartupException error = await BuildFailsAsync(ConfigNaming("tcp", "plugins"), directory);

        Assert.Contains("does not reference PluginProxy.Abstractions", Assert.Single(error.Problems));
    }

    [Fact]
    public async Task MissingPluginsFolder_IsReportedAtTheKey()
    {
        using var directory = new TempDirectory();

        StartupException error = await BuildFailsAsync(ConfigNaming("tcp", "no/such/folder"), directory);

        Assert.Contains(error.Problems, p => p.Contains("proxy.toml:2:11:") && p.Contains("does not exist"));
    }

    [Fact]
    public async Task UnknownSupervisor_IsReportedWhereItIsNamed_WithASuggestion()
    {
        using var directory = new TempDirectory();

        StartupException error = await BuildFailsAsync(ConfigNaming("tpc", RepoPaths.PluginsBin), directory);

        string problem = Assert.Single(error.Problems);
        Assert.Contains("proxy.toml:8:14: supervisor \"tpc\" is not provided by any loaded plugin; did you mean \"tcp\"?", problem);
    }

    [Fact]
    public async Task UnknownAnalyzer_IsReportedWhereItIsNamed()
    {
        using var directory = new TempDirectory();

        StartupException error = await BuildFailsAsync(
            ConfigNaming("tcp", RepoPaths.TestPluginsBin, "request_analyzers = [\"hold_until_newline\", \"no_such\"]"), directory);

        string problem = Assert.Single(error.Problems);
        Assert.Contains("proxy.toml:10:44: analyzer \"no_such\" is not provided", problem);
    }

    [Fact]
    public async Task MissingScript_IsReportedWhereItIsNamed()
    {
        using var directory = new TempDirectory();

        StartupException error = await BuildFailsAsync(ConfigNaming("tcp", RepoPaths.PluginsBin, "request_analyzers = [\"rules/x.csx\"]"), directory);

        string problem = Assert.Single(error.Problems);
        Assert.Contains("proxy.toml:10:22: script ", problem);
        Assert.Contains("rules/x.csx does not exist", problem);
    }

    [Theory]
    [InlineData(0, 0, true)]
    [InlineData(0, -1, true)]
    [InlineData(0, 1, false)]
    [InlineData(1, 0, false)]
    [InlineData(-1, 0, false)]
    public void SdkVersions_AreCheckedBeforeLoading(int majorDelta, int minorDelta, bool compatible)
    {
        Version host = SdkCompatibility.HostSdk.Version!;
        var plugin = new Version(host.Major + majorDelta, Math.Max(0, host.Minor + minorDelta), 3, 0);

        string? problem = SdkCompatibility.Check(plugin);

        if (compatible)
        {
            Assert.Null(problem);
        }
        else
        {
            Assert.Contains($"built against PluginProxy.Abstractions {plugin.ToString(2)}, but this host provides PluginProxy.Abstractions {host.ToString(2)}", problem);
        }
    }

    [Fact]
    public async Task RetiredPlugin_StaysLoadedWhileUsed_ThenIsUnloadedAndCollected()
    {
        PluginCatalog catalog = NewCatalog();
        Assert.Empty(await catalog.LoadFoldersAsync([RepoPaths.TestPluginsBin]));
        (LoadedPlugin plugin, WeakReference context) = AcquireProbe(catalog);

        // Retired (as when the proxy stops or a new version replaces it) while a session still holds it.
        await catalog.DisposeAsync();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.True(context.IsAlive, "a plugin in use must stay loaded");
        Assert.Equal(1, plugin.References);

        // The session ends: the last reference goes, the load context unloads and is collected.
        plugin.Release();
        plugin = null!;
        await Wait.UntilAsync(() =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return !context.IsAlive;
        }, "the probe plugin's load context to be collected");
    }

    [Fact]
    public async Task ResidentPlugin_LoadsIntoAContextThatIsNeverUnloaded()
    {
        PluginCatalog catalog = NewCatalog();
        catalog.Resident = new HashSet<string> { "Probe" };
        Assert.Empty(await catalog.LoadFoldersAsync([RepoPaths.TestPluginsBin]));
        Assert.True(catalog.TryAcquireSupervisor("probe", out LoadedPlugin? plugin, out _));
        Assert.True(plugin!.Resident);
        Assert.False(plugin.PeekLoadContext()!.IsCollectible);

        // Retired and released: its context stays, as asked (the leak check is not told to wait for it).
        await catalog.DisposeAsync();
        plugin.Release();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.True(plugin.LoadContext.IsAlive);
        Assert.False(plugin.Leaked);
    }

    [Theory]
    [InlineData("resident_plugins = [\"a/b\"]", "\"a/b\" is not a plugin name")]
    [InlineData("resident_plugins = [7]", "`resident_plugins` must hold strings")]
    public void ResidentPlugins_WithSomethingElseThanNames_IsAnErrorAtTheValue(string line, string message)
    {
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", $"[global]\n{line}\n");
        ConfigException error = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path));
        Assert.Contains("proxy.toml:2:", error.Message);
        Assert.Contains(message, error.Message);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (LoadedPlugin, WeakReference) AcquireProbe(PluginCatalog catalog)
    {
        Assert.True(catalog.TryAcquireSupervisor("probe", out LoadedPlugin? plugin, out IProtocolSupervisor? supervisor));
        Assert.Equal("ProbeSupervisor", supervisor!.GetType().Name);

        // A typed phase is an SDK adapter made over the plugin's type: it must not keep the plugin loaded either.
        Assert.True(catalog.TryAcquireAnalyzer("probe_logger", out LoadedPlugin? owner, out IFlowAnalyzer? logger));
        Assert.Equal("http logger ProbeHttpLogger", logger!.ToString());
        owner!.Release();
        return (plugin!, plugin!.LoadContext);
    }
}
