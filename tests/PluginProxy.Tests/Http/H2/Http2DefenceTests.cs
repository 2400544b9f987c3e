using PluginProxy.Http.Codec.H2;
using PluginProxy.Http.Engine.H2;

namespace PluginProxy.Tests.Http.H2;

/// <summary>The flood defences of <see cref="Http2Limits"/>: each ends in GOAWAY ENHANCE_YOUR_CALM.</summary>
public class Http2DefenceTests
{
    [Fact]
    public async Task RapidReset_EndsInGoAwayEnhanceYourCalm()
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync(async s => await Task.Delay(Timeout.Infinite, s.Aborted), new Http2Limits { MaxClientResets = 5 });
        for (int id = 1; id <= 13; id += 2)
        {
            await client.SendHeadersAsync(id, true, H2FrameClient.Request("GET", "/"));
            await client.SendRstAsync(id, Http2ErrorCode.Cancel);
        }

        H2Frame goAway = await client.ReadGoAwayAsync();
        Assert.Equal(Http2ErrorCode.EnhanceYourCalm, goAway.ErrorCode);
        Assert.Null(await client.ReadFrameAsync());
    }

    [Fact]
    public async Task ManyEmptyContinuationFrames_EndInGoAwayEnhanceYourCalm()
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync(limits: new Http2Limits { MaxContinuationFrames = 4 });
        byte[] block = client.Block(H2FrameClient.Request("GET", "/"));
        await client.SendFrameAsync(Http2FrameType.Headers, Http2FrameFlags.EndStream, 1, block);
        for (int i = 0; i < 5; i++)
        {
            await client.SendFrameAsync(Http2FrameType.Continuation, Http2FrameFlags.None, 1, []);
        }

        Assert.Equal(Http2ErrorCode.EnhanceYourCalm, (await client.ReadGoAwayAsync()).ErrorCode);
    }

    [Fact]
    public async Task AHeaderBlockOverTheLimit_EndsInGoAwayEnhanceYourCalm()
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync(limits: new Http2Limits { MaxHeaderBlockSize = 1000 });
        byte[] block = client.Block(H2FrameClient.Request("GET", "/"));
        await client.SendFrameAsync(Http2FrameType.Headers, Http2FrameFlags.EndStream, 1, block);
        for (int i = 0; i < 3; i++)
        {
            await client.SendFrameAsync(Http2FrameType.Continuation, Http2FrameFlags.None, 1, new byte[400]);
        }

        Assert.Equal(Http2ErrorCode.EnhanceYourCalm, (await client.ReadGoAwayAsync()).ErrorCode);
    }

    [Fact]
    public async Task APingFlood_EndsInGoAwayEnhanceYourCalm()
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync(limits: new Http2Limits { MaxPings = 3 });
        for (ulong i = 0; i < 4; i++)
        {
            await client.SendPingAsync(i);
        }

        Assert.Equal(Http2ErrorCode.EnhanceYourCalm, (await client.ReadGoAwayAsync()).ErrorCode);
    }

    [Fact]
    public async Task ASettingsFlood_EndsInGoAwayEnhanceYourCalm()
    {
        // The handshake's SETTINGS counts too.
        await using H2FrameClient client = await H2FrameClient.StartAsync(limits: new Http2Limits { MaxSettingsFrames = 3 });
        for (int i = 0; i < 3; i++)
        {
            await client.SendSettingsAsync();
        }

        Assert.Equal(Http2ErrorCode.EnhanceYourCalm, (await client.ReadGoAwayAsync()).ErrorCode);
    }

    [Fact]
    public async Task AnEmptyDataFlood_EndsInGoAwayEnhanceYourCalm()
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync(async s => await Task.Delay(Timeout.Infinite, s.Aborted), new Http2Limits { MaxEmptyFrames = 3 });
        await client.SendHeadersAsync(1, false, H2FrameClient.Request("POST", "/"));
        for (int i = 0; i < 4; i++)
        {
            await client.SendDataAsync(1, [], endStream: false);
        }

        Assert.Equal(Http2ErrorCode.EnhanceYourCalm, (await client.ReadGoAwayAsync()).ErrorCode);
    }

    [Fact]
    public async Task RefusingTooManyStreams_EndsInGoAwayEnhanceYourCalm()
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync(async s => await Task.Delay(Timeout.Infinite, s.Aborted),
            new Http2Limits { MaxConcurrentStreams = 1, MaxRefusedStreams = 3 });
        for (int id = 1; id <= 9; id += 2)
        {
            await client.SendHeadersAsync(id, true, H2FrameClient.Request("GET", "/"));
        }

        Assert.Equal(Http2ErrorCode.EnhanceYourCalm, (await client.ReadGoAwayAsync()).ErrorCode);
    }

    [Fact]
    public async Task ACompressionError_IsAConnectionError()
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync();
        await client.SendFrameAsync(Http2FrameType.Headers, Http2FrameFlags.EndHeaders | Http2FrameFlags.EndStream, 1, [0x80]);
        Assert.Equal(Http2ErrorCode.CompressionError, (await client.ReadGoAwayAsync()).ErrorCode);
    }
}
