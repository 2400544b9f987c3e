using System.Net.Sockets;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Http;

/// <summary>A stopping proxy finishes the request in flight (and says it closes), and drops idle keep-alive connections at once.</summary>
public class HttpStopTests
{
    [Fact]
    public async Task Stop_LetsTheRequestInFlightFinish_WithConnectionClose_AndClosesIdleConnections()
    {
        var answer = new TaskCompletionSource();
        await using var origin = new HttpOrigin(async (request, socket) =>
        {
            if (request.Target == "/slow")
            {
                await answer.Task;
            }

            await socket.SendAllAsync("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone"u8.ToArray());
            return true;
        });
        RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address));
        using RawHttp idle = await RawHttp.ConnectAsync(proxy);
        await idle.SendAsync("GET /fast HTTP/1.1\r\nHost: a\r\n\r\n");
        await idle.ReadResponseAsync();
        using RawHttp busy = await RawHttp.ConnectAsync(proxy);
        await busy.SendAsync("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
        await origin.WaitForRequestAsync(2);

        Task stopping = proxy.Host.StopAsync(TimeSpan.FromSeconds(10));

        Assert.True(await idle.IsClosedAsync(), "an idle keep-alive connection is closed when the proxy stops");
        Assert.False(stopping.IsCompleted);
        answer.SetResult();
        RawResponse response = await busy.ReadResponseAsync();
        Assert.Equal("done", response.BodyText);
        Assert.Equal("close", response.Header("Connection"));
        await stopping.WithDeadline("the stop to complete once the last stream ended");
        await proxy.DisposeAsync();
    }
}
