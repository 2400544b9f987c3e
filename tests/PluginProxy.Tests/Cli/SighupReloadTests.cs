using System.Net;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Cli;

/// <summary>SIGHUP to the real executable: the configuration file is read again and applied, or refused as a whole.</summary>
public class SighupReloadTests
{
    private static async Task<string> GetAsync(int port)
    {
        using RawHttp client = await RawHttp.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        RawResponse response = await client.ReadResponseAsync();
        return $"{response.Status} {response.BodyText}";
    }

    [Fact]
    public async Task Sighup_AppliesTheChangedFile_ThenABrokenFileIsRefusedWithItsPosition_AndTheRunningConfigurationServes()
    {
        await using HttpOrigin first = HttpOrigin.Named("first");
        await using HttpOrigin second = HttpOrigin.Named("second");
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", HttpConfig.For(first.Address));
        using ProxyProcess proxy = ProxyProcess.Start(["run", "--config", path]);
        int port = await proxy.WaitForListenerPortAsync("web");
        Assert.Equal("200 first", await GetAsync(port));

        // The listener keeps its socket (same bind): the same port serves the new backend.
        File.WriteAllText(path, HttpConfig.For(second.Address));
        proxy.Signal(ProxyProcess.SigHup);
        await proxy.WaitForLineAsync(l => l.Contains("SIGHUP received"), "the signal to be handled");
        await Wait.ForAsync(async () => await GetAsync(port) == "200 second", "the reloaded configuration to serve");

        // A file with an unknown key: refused as a whole, with where and what; the running configuration goes on.
        int firstServed = first.Requests.Count;
        string broken = HttpConfig.For(first.Address).Replace("name = \"origin\",", "name = \"origin\", wieght = 2,");
        File.WriteAllText(path, broken);
        proxy.Signal(ProxyProcess.SigHup);
        string refused = await proxy.WaitForLineAsync(l => l.Contains("reload refused"), "the broken configuration to be refused");
        string[] lines = broken.Split('\n');
        int line = Array.FindIndex(lines, l => l.Contains("wieght")) + 1;
        Assert.Contains($"{path}:{line}:{lines[line - 1].IndexOf("wieght", StringComparison.Ordinal) + 1}: ", refused);
        Assert.Contains("wieght", refused);
        // The broken file names the first origin: had any of it been applied, requests would go there.
        Assert.Equal("200 second", await GetAsync(port));
        Assert.Equal(firstServed, first.Requests.Count);
    }
}
