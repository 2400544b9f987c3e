using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Configuration;

/// <summary>With <c>hot_reload = true</c> the proxy watches its own proxy.toml: a saved change is applied as SIGHUP would.</summary>
public class ConfigFileWatcherTests
{
    private static string Config(string originAddress) => HttpConfig.For(originAddress).Replace("[global]\n", "[global]\nhot_reload = true\n");

    private static async Task<string> GetAsync(RunningProxy proxy)
    {
        using RawHttp client = await RawHttp.ConnectAsync(proxy);
        await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        RawResponse response = await client.ReadResponseAsync();
        return $"{response.Status} {response.BodyText}";
    }

    private static async Task WaitUntilServedByAsync(RunningProxy proxy, string expected, string after)
    {
        string last = "";
        try
        {
            await Wait.ForAsync(async () => (last = await GetAsync(proxy)) == expected, $"{expected} after {after}");
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message} (last answer: {last}); log:\n{proxy.Logs.Dump()}");
        }
    }

    [Fact]
    public async Task SavedProxyToml_IsApplied_WrittenInPlace_OrRenamedOverTheFile_AndABrokenSaveIsRefused()
    {
        await using HttpOrigin first = HttpOrigin.Named("first");
        await using HttpOrigin second = HttpOrigin.Named("second");
        await using HttpOrigin third = HttpOrigin.Named("third");
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(first.Address));
        string path = Path.Combine(proxy.Directory, "proxy.toml");
        Assert.Equal("200 first", await GetAsync(proxy));

        // An editor writing the file in place.
        File.WriteAllText(path, Config(second.Address));
        await WaitUntilServedByAsync(proxy, "200 second", "an in-place write");

        // A deployment tool writing a temporary file, then renaming it over proxy.toml.
        string temporary = Path.Combine(proxy.Directory, "proxy.toml.tmp");
        File.WriteAllText(temporary, Config(third.Address));
        File.Move(temporary, path, overwrite: true);
        await WaitUntilServedByAsync(proxy, "200 third", "a rename over the file");

        // A save that does not parse: refused, logged with its position, the running configuration stays (the broken
        // file names the first origin: had any of it been applied, requests would go there).
        int firstServed = first.Requests.Count;
        File.WriteAllText(path, Config(first.Address).Replace("servers = [", "servers = [[["));
        string refused = await proxy.Logs.WaitForAsync("PluginProxy.Host", l => l.Contains("reload refused"), "the broken save to be refused");
        Assert.Contains($"{path}:", refused);
        Assert.Equal("200 third", await GetAsync(proxy));
        Assert.Equal(firstServed, first.Requests.Count);
    }
}
