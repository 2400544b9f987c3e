using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging.Abstractions;
using PluginProxy.Abstractions;
using PluginProxy.Host;
using PluginProxy.Host.Backends;
using PluginProxy.Host.Configuration;
using PluginProxy.Host.Plugins;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Plugins;

/// <summary>The sample third-party plugin (plugins/RateLimit), loaded from plugins/bin like any other.</summary>
[Collection(ForcesGarbageCollection.Name)]
public class RateLimitTests
{
    // The sample is not built in: it loads from the plugins folder the configuration names (the clone's plugins/bin).
    internal static string Config(string origin, string options) =>
        HttpConfig.For(origin, $$"""
            request_analyzers = ["rate_limit"]
            options = { rate_limit = {{options}} }
            """).Replace($"plugins = \"{RepoPaths.TestPluginsBin}\"", $"plugins = \"{RepoPaths.PluginsBin}\"");

    internal static async Task<int> StatusAsync(RawHttp client, string path)
    {
        await client.SendAsync($"GET {path} HTTP/1.1\r\nHost: a\r\n\r\n");
        return (await client.ReadResponseAsync()).Status;
    }

    [Fact]
    public async Task ClientOverItsBurst_Gets429WithRetryAfter_AndTheServerNeverSeesThoseRequests()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origin.Address, """{ requests = 1, per = "1m", burst = 3 }"""));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        for (int i = 1; i <= 3; i++)
        {
            Assert.Equal(200, await StatusAsync(client, $"/allowed/{i}"));
        }

        await client.SendAsync("GET /refused HTTP/1.1\r\nHost: a\r\n\r\n");
        RawResponse refused = await client.ReadResponseAsync();
        Assert.Equal(429, refused.Status);
        Assert.Equal("Too Many Requests\n", refused.BodyText);
        int retryAfter = int.Parse(refused.Header("Retry-After")!);
        Assert.InRange(retryAfter, 50, 60);

        // The connection stays usable, and a second refusal is not logged again.
        Assert.Equal(429, await StatusAsync(client, "/refused-again"));
        Assert.Equal(3, origin.Requests.Count);
        Assert.DoesNotContain(origin.Requests, r => r.Target.StartsWith("/refused", StringComparison.Ordinal));
        string logged = await proxy.Logs.WaitForAsync("RateLimit.RateLimiter", l => l.Contains("over its limit"), "the refusal to be logged");
        Assert.Equal("Client 127.0.0.1 on listener web is over its limit of 1 requests per 00:01:00: answering 429", logged);
        Assert.Single(proxy.Logs.Category("RateLimit.RateLimiter"));
        await proxy.AccessLog.WaitForAsync(l => l.Contains(" 429 ") && l.Contains("/refused-again"), "the 429 in the access log");
    }

    [Fact]
    public async Task EachClientAddressHasItsOwnBucket()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origin.Address, """{ requests = 1, per = "1h", burst = 1 }"""));
        using RawHttp first = await RawHttp.ConnectFromAsync(proxy, IPAddress.Parse("127.0.0.2"));
        using RawHttp second = await RawHttp.ConnectFromAsync(proxy, IPAddress.Parse("127.0.0.3"));

        Assert.Equal(200, await StatusAsync(first, "/a"));
        Assert.Equal(429, await StatusAsync(first, "/a"));
        Assert.Equal(200, await StatusAsync(second, "/b"));

        // A new connection from the same address shares the address's bucket.
        using RawHttp again = await RawHttp.ConnectFromAsync(proxy, IPAddress.Parse("127.0.0.2"));
        Assert.Equal(429, await StatusAsync(again, "/a"));
    }

    [Fact]
    public async Task BadOptions_AreRefusedAtLoad_WithTheFileLineAndColumnOfEachKey()
    {
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", Config("127.0.0.1:9", """{ requests = -1, per = "soon", brust = 3 }"""));
        ProxyConfig config = ConfigLoader.Load(path);

        var error = await Assert.ThrowsAsync<StartupException>(() => ProxyHost.BuildAsync(config, NullLoggerFactory.Instance, new CapturedAccessLog()));

        string[] lines = File.ReadAllLines(path);
        int line = Array.FindIndex(lines, l => l.Contains("rate_limit =", StringComparison.Ordinal)) + 1;
        string optionsLine = lines[line - 1];
        Assert.Equal(3, error.Problems.Count);
        // The SDK's options binder reports in the host's words: the value's place, and an unknown key at the key.
        Assert.Contains($"{path}:{line}:{optionsLine.IndexOf("-1", StringComparison.Ordinal) + 1}: `options.rate_limit.requests` must be from 1 to 2147483647, not -1", error.Problems);
        Assert.Contains($"{path}:{line}:{optionsLine.IndexOf("\"soon\"", StringComparison.Ordinal) + 1}: `options.rate_limit.per`: \"soon\" is not a duration; write a number and a unit: \"250ms\", \"5s\", \"2m\", \"1h\"", error.Problems);
        Assert.Contains($"{path}:{line}:{optionsLine.IndexOf("brust", StringComparison.Ordinal) + 1}: unknown key `brust` in `options.rate_limit`; did you mean `burst`?", error.Problems);
    }

    [Fact]
    public async Task StopAsyncStopsTheSweeper_SoTheUnloadedPluginIsCollected()
    {
        var catalog = new PluginCatalog(new PluginHostServices(NullLoggerFactory.Instance, new ServerConnector(Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance), new CapturedAccessLog(), new object()));
        Assert.Empty(await catalog.LoadFoldersAsync([RepoPaths.PluginsBin]));
        WeakReference context = UseOnce(catalog);

        await catalog.DisposeAsync();

        await Wait.UntilAsync(() =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return !context.IsAlive;
        }, "the RateLimit plugin's load context to be collected (its timer must be stopped)");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference UseOnce(PluginCatalog catalog)
    {
        Assert.True(catalog.TryAcquireAnalyzer("rate_limit", out LoadedPlugin? plugin, out IFlowAnalyzer? analyzer));
        Assert.Equal("RateLimiter", analyzer!.GetType().Name);
        Assert.Equal("RateLimit", plugin!.Name);
        plugin.Release();
        return plugin.LoadContext;
    }
}
