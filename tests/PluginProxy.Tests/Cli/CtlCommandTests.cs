using PluginProxy.Host.Backends;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Cli;

/// <summary><c>pluginproxy ctl</c>, the real executable, against a running proxy's admin endpoint (TCP with a token, or the Unix socket).</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class CtlCommandTests
{
    private const string Token = "fedcba9876543210fedcba9876543210";

    private static string Config(string originA, string originB, string admin) => HttpConfig.WithServers([("a", originA, 1), ("b", originB, 1)], admin);

    private static Server ServerOf(RunningProxy proxy, string name) => proxy.Host.Backends.Backends[0].ServerStates.Single(s => s.Name == name);

    [Fact]
    public async Task Ctl_OverTcpWithTheTokenFile_DrainsReweighsAddsAndShows_AndARefusalExits1WithTheReason()
    {
        using var directory = new TempDirectory();
        string tokenFile = directory.Write("admin.token", Token + "\n");
        File.SetUnixFileMode(tokenFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await using HttpOrigin a = HttpOrigin.Named("a");
        await using HttpOrigin b = HttpOrigin.Named("b");
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(a.Address, b.Address, $"admin = \"127.0.0.1:0\"\nadmin_token_file = \"{tokenFile}\""));
        string[] to = ["--url", $"http://{proxy.Host.AdminEndPoint}", "--token-file", tokenFile];

        var (code, output) = await ProxyProcess.RunAsync(["ctl", "drain", "app/a", .. to]);
        Assert.True(code == 0, output);
        Assert.Contains($"a {a.Address}: state drain, health up, weight 1 (configured 1)", output);
        Assert.Equal(ServerAdminState.Drain, ServerOf(proxy, "a").AdminState);

        (code, output) = await ProxyProcess.RunAsync(["ctl", "weight", "app/b", "9", .. to]);
        Assert.True(code == 0, output);
        Assert.Equal(9, ServerOf(proxy, "b").Weight);

        (code, output) = await ProxyProcess.RunAsync(["ctl", "add", "app/c", "127.0.0.1:9", "--weight", "2", .. to]);
        Assert.True(code == 0, output);
        Assert.Contains("c 127.0.0.1:9: state maint", output);

        (code, output) = await ProxyProcess.RunAsync(["ctl", "show", "app", .. to]);
        Assert.True(code == 0, output);
        Assert.Contains("backend app (roundrobin, no check): 1 usable, 0 stream(s)", output);
        Assert.Matches(@"(?m)^a\s+127\.0\.0\.1:\d+\s+drain\s+up\s+1\s", output);
        Assert.Matches(@"(?m)^b\s+127\.0\.0\.1:\d+\s+ready\s+up\s+9\s", output);
        Assert.Matches(@"(?m)^c\s+127\.0\.0\.1:9\s+maint\s+up\s+2\s", output);

        (code, output) = await ProxyProcess.RunAsync(["ctl", "show", "app/b", "--json", .. to]);
        Assert.True(code == 0, output);
        Assert.Contains("\"weight\": 9", output);

        (code, output) = await ProxyProcess.RunAsync(["ctl", "del", "app/b", .. to]);
        Assert.Equal(1, code);
        Assert.Contains("409: server app/b is in state ready: set it to maint first", output);

        (code, output) = await ProxyProcess.RunAsync(["ctl", "drain", "app/a", "--url", $"http://{proxy.Host.AdminEndPoint}"]);
        Assert.Equal(1, code);
        Assert.Contains("401: PATCH /api/backends/app/servers/a needs the admin token", output);

        (code, output) = await ProxyProcess.RunAsync(["ctl", "drain", "a", .. to]);
        Assert.Equal(2, code);
        Assert.Contains("\"a\" is not <backend>/<server>", output);
    }

    [Fact]
    public async Task Ctl_FindsTheAdminSocketInTheConfiguration_AndNeedsNoToken_There()
    {
        using var directory = new TempDirectory();
        string socketPath = Path.Combine(directory.Path, "admin.sock");
        await using HttpOrigin a = HttpOrigin.Named("a");
        await using HttpOrigin b = HttpOrigin.Named("b");
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(a.Address, b.Address, $"admin_socket = \"{socketPath}\""));

        var (code, output) = await ProxyProcess.RunAsync("ctl", "maint", "app/b", "--config", proxy.Host.Config.FilePath);
        Assert.True(code == 0, output);
        Assert.Equal(ServerAdminState.Maint, ServerOf(proxy, "b").AdminState);

        (code, output) = await ProxyProcess.RunAsync("ctl", "show", "listeners", "--config", proxy.Host.Config.FilePath);
        Assert.True(code == 0, output);
        Assert.Matches(@"(?m)^web\s+http\s+127\.0\.0\.1:\d+\s+0\s+0\s+10000\s+0\s+app$", output);
    }
}
