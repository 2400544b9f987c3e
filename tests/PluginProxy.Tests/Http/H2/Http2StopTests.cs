using PluginProxy.Http.Codec.H2;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Http.H2;

/// <summary>A stopping proxy sends GOAWAY on its HTTP/2 connections, lets the streams in flight finish, then closes.</summary>
public class Http2StopTests
{
    [Fact]
    public async Task Stop_SendsGoAway_LetsTheStreamInFlightFinish_ThenCloses()
    {
        var answer = new TaskCompletionSource();
        await using var origin = new HttpOrigin(async (request, socket) =>
        {
            await answer.Task;
            await socket.SendAllAsync("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone"u8.ToArray());
            return true;
        });
        RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address));
        await using H2FrameClient client = await H2FrameClient.ConnectAsync(proxy.EndPoint());
        await client.GetAsync(1, "/slow");
        await origin.WaitForRequestAsync();

        Task stopping = proxy.Host.StopAsync(TimeSpan.FromSeconds(10));
        H2Frame goAway = await client.ReadGoAwayAsync();

        Assert.Equal(Http2ErrorCode.NoError, goAway.ErrorCode);
        Assert.Equal(1, goAway.LastStreamId);
        Assert.False(stopping.IsCompleted);
        answer.SetResult();
        H2Response response = await client.ReadResponseAsync(1);
        Assert.Equal(200, response.Status);
        Assert.Equal("done", response.Text);
        Assert.Null(await client.ReadFrameAsync());
        await stopping.WithDeadline("the stop to complete once the last stream ended");
        await proxy.DisposeAsync();
    }
}
