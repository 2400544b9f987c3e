using System.Diagnostics;
using System.Text.RegularExpressions;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Cli;

/// <summary>The host published once, as the README's install does (<c>dotnet publish host -o DIR</c>), for the tests that run it.</summary>
public sealed class PublishedInstall : IAsyncLifetime
{
    private readonly TempDirectory _install = new();

    public string Path => _install.Path;

    public async Task InitializeAsync()
    {
        string configuration = AppContext.BaseDirectory.Contains($"{System.IO.Path.DirectorySeparatorChar}Release{System.IO.Path.DirectorySeparatorChar}") ? "Release" : "Debug";
        // --no-build: the host and plugins this test run was built with are what gets installed.
        (int published, string output) = await Tools.RunAsync("dotnet",
            ["publish", System.IO.Path.Combine(RepoPaths.Root, "host"), "-c", configuration, "--no-build", "-o", _install.Path, "-nologo"], deadline: TimeSpan.FromMinutes(3));
        Assert.True(published == 0, output);
    }

    public Task DisposeAsync()
    {
        _install.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>The install the README describes: <c>dotnet publish host -o DIR</c>, then DIR/pluginproxy with a configuration kept anywhere, run as deploy/pluginproxy.service says.</summary>
public partial class InstallTests(PublishedInstall install) : IClassFixture<PublishedInstall>
{
    [Fact]
    public async Task PublishedProxy_CarriesTheBuiltInPlugins_AndRunsTheDefaultConfigurationKeptOutsideTheClone()
    {
        using var etc = new TempDirectory();
        string config = Path.Combine(etc.Path, "proxy.toml");
        File.Copy(Path.Combine(RepoPaths.Root, "proxy.toml"), config);

        (int code, string output) = await Tools.RunAsync(Path.Combine(install.Path, "pluginproxy"), ["check", "--config", config], deadline: TimeSpan.FromMinutes(1));

        Assert.Equal(["PluginProxy.Compression", "PluginProxy.Http", "PluginProxy.Https", "PluginProxy.Tcp"],
            Directory.EnumerateDirectories(Path.Combine(install.Path, "plugins")).Select(Path.GetFileName).Order());
        Assert.True(code == 0, output);
        Assert.Contains($"{config}: configuration is valid (3 listener(s), 1 backend(s), 4 plugin(s))", output);
    }

    /// <summary>
    /// The systemd unit's own command lines, with its install and configuration folders pointed at the test's: the check
    /// before the start passes, the start serves, the reload command reloads, and the stop signal ends the process with 0
    /// well within the unit's stop timeout.
    /// </summary>
    [Fact]
    public async Task SystemdUnit_ItsStartReloadAndStopCommands_RunThePublishedProxy()
    {
        string unit = File.ReadAllText(Path.Combine(RepoPaths.Root, "deploy", "pluginproxy.service"));
        using var etc = new TempDirectory();
        await using HttpOrigin origin = HttpOrigin.Named("served");
        etc.Write("proxy.toml", HttpConfig.WithServers([("a", origin.Address, 1)], global: "[global]\ngrace = \"5s\""));
        string[] Command(string key) => Key(unit, key).Replace("/opt/pluginproxy", install.Path).Replace("/etc/pluginproxy", etc.Path).Split(' ');

        string[] check = Command("ExecStartPre");
        (int checkCode, string checkOutput) = await Tools.RunAsync(check[0], check[1..], deadline: TimeSpan.FromMinutes(1));
        Assert.True(checkCode == 0, checkOutput);

        string[] start = Command("ExecStart");
        var info = new ProcessStartInfo(start[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        start[1..].ToList().ForEach(info.ArgumentList.Add);
        using Process proxy = Process.Start(info)!;
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        proxy.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        proxy.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        proxy.BeginOutputReadLine();
        proxy.BeginErrorReadLine();
        try
        {
            await Wait.UntilAsync(() => output.Any(l => l.Contains("PluginProxy started")), "the proxy started", TimeSpan.FromSeconds(30));
            int port = int.Parse(ListeningPort().Match(string.Join('\n', output)).Groups[1].Value);
            using (RawHttp client = await RawHttp.ConnectAsync(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port)))
            {
                await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
                Assert.Equal("served", (await client.ReadResponseAsync()).BodyText);
            }

            string[] reload = Key(unit, "ExecReload").Replace("$MAINPID", proxy.Id.ToString()).Split(' ');
            (int reloadCode, string reloadOutput) = await Tools.RunAsync(reload[0], reload[1..]);
            Assert.True(reloadCode == 0, reloadOutput);
            await Wait.UntilAsync(() => output.Any(l => l.Contains("Configuration reloaded from")), "the reload logged", TimeSpan.FromSeconds(30));

            Assert.Equal("SIGTERM", Key(unit, "KillSignal"));
            (int killCode, string killOutput) = await Tools.RunAsync("kill", ["-TERM", proxy.Id.ToString()]);
            Assert.True(killCode == 0, killOutput);
            TimeSpan stopTimeout = TimeSpan.FromSeconds(int.Parse(Key(unit, "TimeoutStopSec").TrimEnd('s')));
            using var stopped = new CancellationTokenSource(stopTimeout);
            await proxy.WaitForExitAsync(stopped.Token);
            Assert.Equal(0, proxy.ExitCode);
        }
        finally
        {
            if (!proxy.HasExited)
            {
                proxy.Kill(entireProcessTree: true);
            }
        }
    }

    /// <summary>The .NET tool package (README): packed from this build, installed with <c>dotnet tool install</c>, its command checks a configuration.</summary>
    [Fact]
    public async Task ToolPackage_InstalledWithDotnetTool_GivesAPluginproxyCommandWithTheBuiltInPlugins()
    {
        using var packages = new TempDirectory();
        using var tools = new TempDirectory();
        using var etc = new TempDirectory();
        string configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
        (int packed, string packOutput) = await Tools.RunAsync("dotnet",
            ["pack", Path.Combine(RepoPaths.Root, "host"), "-c", configuration, "--no-build", "-o", packages.Path, "-nologo"], deadline: TimeSpan.FromMinutes(3));
        Assert.True(packed == 0, packOutput);
        (int installed, string installOutput) = await Tools.RunAsync("dotnet",
            ["tool", "install", "PluginProxy", "--tool-path", tools.Path, "--add-source", packages.Path], deadline: TimeSpan.FromMinutes(3));
        Assert.True(installed == 0, installOutput);
        string config = Path.Combine(etc.Path, "proxy.toml");
        File.Copy(Path.Combine(RepoPaths.Root, "proxy.toml"), config);

        (int code, string output) = await Tools.RunAsync(Path.Combine(tools.Path, "pluginproxy"), ["check", "--config", config], deadline: TimeSpan.FromMinutes(1));

        Assert.True(code == 0, output);
        Assert.Contains($"{config}: configuration is valid (3 listener(s), 1 backend(s), 4 plugin(s))", output);
    }

    private static string Key(string unit, string key) =>
        unit.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith(key + "=", StringComparison.Ordinal))[(key.Length + 1)..];

    [GeneratedRegex(@"accepting on 127\.0\.0\.1:(\d+)")]
    private static partial Regex ListeningPort();
}
