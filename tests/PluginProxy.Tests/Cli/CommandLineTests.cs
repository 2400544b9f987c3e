using System.Net.Sockets;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Cli;

/// <summary>The real executable: the check and run commands, exit codes, signals.</summary>
public class CommandLineTests
{
    private static string EchoConfig(string echoAddress, string listenerExtra = "", string global = "") => $$"""
        [global]
        plugins = "{{RepoPaths.PluginsBin}}"
        grace = "10s"
        {{global}}

        [[listener]]
        name = "front"
        bind = ["127.0.0.1:0"]
        supervisor = "tcp"
        backend = "app"
        {{listenerExtra}}

        [[backend]]
        name = "app"
        servers = [{ name = "echo", address = "{{echoAddress}}" }]
        """;

    [Fact]
    public async Task Check_TheDefaultConfiguration_IsValid()
    {
        var (code, output) = await ProxyProcess.RunAsync("check", "--config", Path.Combine(RepoPaths.Root, "proxy.toml"));

        Assert.True(code == 0, output);
        Assert.Contains("configuration is valid", output);
    }

    [Fact]
    public async Task Check_ABrokenConfiguration_PrintsEveryErrorWithItsPosition_AndExits1()
    {
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", """
            [global]
            plugins = "plugins/bin"
            hot_reload = "yes"

            [[listener]]
            name = "web"
            bind = ["127.0.0.1:8080"]
            supervisor = "tcp"
            backend = "nowhere"
            """);

        var (code, output) = await ProxyProcess.RunAsync("check", "--config", path);

        Assert.Equal(1, code);
        Assert.Contains("proxy.toml:3:14: `hot_reload` must be true or false, not a string", output);
        Assert.Contains("proxy.toml:9:11: listener \"web\" names backend \"nowhere\", which is not defined", output);
        Assert.Contains("proxy.toml:2:11: the plugins folder", output); // found in the same pass as the value errors
        Assert.Contains("3 error(s)", output);
    }

    [Fact]
    public async Task Check_AMissingFile_Exits1()
    {
        var (code, output) = await ProxyProcess.RunAsync("check", "--config", "/nonexistent/proxy.toml");

        Assert.Equal(1, code);
        Assert.Contains("/nonexistent/proxy.toml:1:1: cannot read the configuration", output);
    }

    [Theory]
    [InlineData("--bogus")]
    [InlineData("frobnicate")]
    [InlineData("check", "--config")]
    public async Task BadUsage_Exits2(params string[] args)
    {
        var (code, output) = await ProxyProcess.RunAsync(args);

        Assert.Equal(2, code);
        Assert.Contains("usage: pluginproxy", output);
    }

    [Fact]
    public async Task Help_Exits0()
    {
        var (code, output) = await ProxyProcess.RunAsync("--help");

        Assert.Equal(0, code);
        Assert.Contains("check", output);
    }

    [Fact]
    public async Task Sigterm_StopsAccepting_LetsRunningSessionsFinish_ThenExits0()
    {
        await using StubServer echo = StubServer.Echo();
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", EchoConfig(echo.Address));
        using ProxyProcess proxy = ProxyProcess.Start(["run", "--config", path]);
        int port = await proxy.WaitForListenerPortAsync("front");
        using Socket running = await SocketExtensions.ConnectAsync(new(System.Net.IPAddress.Loopback, port));
        await running.SendAllAsync(new byte[] { 1 });
        await running.ReadExactlyAsync(1);

        proxy.Signal(ProxyProcess.SigTerm);
        await proxy.WaitForLineAsync(l => l.Contains("SIGTERM received"), "the stop to begin");

        // The running session still works; new connections are refused.
        await running.SendAllAsync(new byte[] { 2 });
        Assert.Equal(2, (await running.ReadExactlyAsync(1))[0]);
        await Wait.UntilAsync(() => !CanConnect(port), "the listener to close");

        running.Shutdown(SocketShutdown.Send);
        await running.ReadToEndAsync();
        Assert.Equal(0, await proxy.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains(proxy.Output, l => l.Contains("session:") && l.Contains("front app/echo") && l.Contains(" normal "));
    }

    [Fact]
    public async Task Sigterm_ClosesSessionsThatOutliveTheGraceTime()
    {
        await using StubServer echo = StubServer.Echo();
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", EchoConfig(echo.Address).Replace("grace = \"10s\"", "grace = \"300ms\""));
        using ProxyProcess proxy = ProxyProcess.Start(["run", "--config", path]);
        int port = await proxy.WaitForListenerPortAsync("front");
        using Socket stuck = await SocketExtensions.ConnectAsync(new(System.Net.IPAddress.Loopback, port));
        await stuck.SendAllAsync(new byte[] { 1 });
        await stuck.ReadExactlyAsync(1);

        proxy.Signal(ProxyProcess.SigTerm);

        Assert.Equal(0, await proxy.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(await stuck.WaitForCloseAsync());
        Assert.Contains(proxy.Output, l => l.Contains("grace time over"));
    }

    [Fact]
    public async Task AddressInUse_IsAClearStartupError_Exit1()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        taken.Listen();
        int port = ((System.Net.IPEndPoint)taken.LocalEndPoint!).Port;
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", EchoConfig("127.0.0.1:9").Replace("127.0.0.1:0", $"127.0.0.1:{port}"));

        var (code, output) = await ProxyProcess.RunAsync("run", "--config", path);

        Assert.Equal(1, code);
        Assert.Contains($"proxy.toml:8:9: listener \"front\" cannot bind 127.0.0.1:{port}: the address is already in use", output);
    }

    [Fact]
    public async Task TransparentWithoutCapNetAdmin_FailsAtStartWithAClearMessage()
    {
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", EchoConfig("127.0.0.1:9", "accept = [\"transparent\"]"));
        // As root, drop CAP_NET_ADMIN and CAP_NET_RAW (either allows IP_TRANSPARENT) from the bounding set so the proxy runs without it; others never have it.
        string[] wrapper = Environment.UserName == "root" ? ["setpriv", "--bounding-set", "-net_admin,-net_raw", "--inh-caps", "-net_admin,-net_raw"] : [];

        using ProxyProcess proxy = ProxyProcess.Start(["run", "--config", path], null, wrapper);
        int code = await proxy.WaitForExitAsync(TimeSpan.FromSeconds(60));

        string output = string.Join("\n", proxy.Output);
        Assert.True(code == 1, output);
        Assert.Contains("has accept flag \"transparent\", but IP_TRANSPARENT cannot be set", output);
        Assert.Contains("CAP_NET_ADMIN", output);
    }

    private static bool CanConnect(int port)
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            probe.Connect(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
