using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Plugins;

/// <summary>
/// The sample rate_limit plugin's refill rate. Timing-sensitive: a request must follow the one that emptied the bucket
/// within the refill period (500 ms here) to be refused, so it runs alone.
/// </summary>
[Collection(TimingSensitive.Name)]
public class RateLimitRefillTests
{
    [Fact]
    public async Task TokensComeBackAtTheConfiguredRate()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(RateLimitTests.Config(origin.Address, """{ requests = 2, per = "1s", burst = 1 }"""));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);
        var sinceTheTokenWasSpent = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(200, await RateLimitTests.StatusAsync(client, "/first"));

        // The bucket is empty: the next request is refused, and so is every retry until a token came back.
        Assert.Equal(429, await RateLimitTests.StatusAsync(client, "/too-soon"));
        int status;
        while ((status = await RateLimitTests.StatusAsync(client, "/retry")) == 429)
        {
            Assert.True(sinceTheTokenWasSpent.Elapsed < Wait.DefaultDeadline, $"no token came back within {Wait.DefaultDeadline}");
            await Task.Delay(20);
        }

        // One token every 500 ms: the retry got through after that, not before.
        long waited = sinceTheTokenWasSpent.ElapsedMilliseconds;
        Assert.Equal(200, status);
        Assert.True(waited >= 450, $"a token came back after {waited} ms, before the 500 ms the rate allows");
        Assert.Equal(["/first", "/retry"], origin.Requests.Select(r => r.Target));
    }
}
