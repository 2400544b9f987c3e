using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Http;

/// <summary>
/// The http supervisor's keep-alive timeout, measured from the client: the clock starts once the response was read, so
/// a pause of the process shortens what the test measures. Timing-sensitive: runs alone.
/// </summary>
[Collection(TimingSensitive.Name)]
public class HttpKeepAliveTimeoutTests
{
    [Fact]
    public async Task IdleKeepAliveClient_IsClosedAfterTimeoutKeepAlive()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, "timeout_keep_alive = \"300ms\""));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);
        await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        await client.ReadResponseAsync();

        var idle = System.Diagnostics.Stopwatch.StartNew();
        Assert.True(await client.IsClosedAsync(), "the idle connection must be closed");
        Assert.True(idle.ElapsedMilliseconds >= 250, $"closed after {idle.ElapsedMilliseconds}ms");
    }
}
