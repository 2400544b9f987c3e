using PluginProxy.Http.Codec.H2;
using PluginProxy.Http.Engine.H2;

namespace PluginProxy.Tests.Http.H2;

/// <summary>Stream states (RFC 9113 §5.1): frames on idle, half-closed and closed streams; stream ids; CONTINUATION; concurrency.</summary>
public class Http2StreamStateTests
{
    [Fact]
    public async Task DataOnAnIdleStream_IsAConnectionProtocolError()
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync();
        await client.SendDataAsync(1, "x", endStream: true);
        Assert.Equal(Http2ErrorCode.ProtocolError, (await client.ReadGoAwayAsync()).ErrorCode);
    }

    [Theory]
    [InlineData((byte)Http2FrameType.RstStream)]
    [InlineData((byte)Http2FrameType.WindowUpdate)]
    public async Task ResetOrWindowUpdateOnAnIdleStream_IsAConnectionProtocolError(byte type)
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync();
        await client.SendFrameAsync((Http2FrameType)type, Http2FrameFlags.None, 5, [0, 0, 0, 1]);
        Assert.Equal(Http2ErrorCode.ProtocolError, (await client.ReadGoAwayAsync()).ErrorCode);
    }

    [Fact]
    public async Task AnEvenStreamId_IsAConnectionProtocolError()
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync();
        await client.SendHeadersAsync(2, true, H2FrameClient.Request("GET", "/"));
        Assert.Equal(Http2ErrorCode.ProtocolError, (await client.ReadGoAwayAsync()).ErrorCode);
    }

    [Fact]
    public async Task HeadersOnAClosedStream_IsAConnectionStreamClosedError()
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync();
        await client.GetAsync(1, "/");
        await client.ReadResponseAsync(1);
        await client.GetAsync(3, "/");
        await client.ReadResponseAsync(3);
        await client.GetAsync(1, "/");
        H2Frame goAway = await client.ReadGoAwayAsync();
        Assert.Equal(Http2ErrorCode.StreamClosed, goAway.ErrorCode);
        Assert.Equal(3, goAway.LastStreamId);
    }

    [Fact]
    public async Task AStreamIdLowerThanOneOpened_IsAConnectionProtocolError()
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync();
        await client.GetAsync(5, "/");
        await client.ReadResponseAsync(5);
        await client.GetAsync(3, "/");
        Assert.Equal(Http2ErrorCode.ProtocolError, (await client.ReadGoAwayAsync()).ErrorCode);
    }

    [Fact]
    public async Task DataOnAHalfClosedStream_IsAStreamClosedError()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using H2FrameClient client = await H2FrameClient.StartAsync(async s =>
        {
            await release.Task.WaitAsync(s.Aborted);
        });
        await client.GetAsync(1, "/");
        await client.SendDataAsync(1, "late", endStream: false);
        Assert.Equal(Http2ErrorCode.StreamClosed, await client.ReadRstAsync(1));
        release.SetResult();
    }

    [Fact]
    public async Task AFrameBetweenHeadersAndContinuation_IsAConnectionProtocolError()
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync();
        byte[] block = client.Block(H2FrameClient.Request("GET", "/"));
        await client.SendFrameAsync(Http2FrameType.Headers, Http2FrameFlags.EndStream, 1, block[..3]);
        await client.SendPingAsync(1);
        Assert.Equal(Http2ErrorCode.ProtocolError, (await client.ReadGoAwayAsync()).ErrorCode);
    }

    [Fact]
    public async Task HeadersSplitIntoContinuationFrames_AreJoined()
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync();
        byte[] block = client.Block(H2FrameClient.Request("GET", "/joined"));
        await client.SendFrameAsync(Http2FrameType.Headers, Http2FrameFlags.EndStream, 1, block[..3]);
        await client.SendFrameAsync(Http2FrameType.Continuation, Http2FrameFlags.None, 1, block[3..6]);
        await client.SendFrameAsync(Http2FrameType.Continuation, Http2FrameFlags.EndHeaders, 1, block[6..]);
        Assert.Equal("GET /joined http example.test Http2", (await client.ReadResponseAsync(1)).Text);
    }

    [Fact]
    public async Task ContinuationWithoutHeaders_IsAConnectionProtocolError()
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync();
        await client.SendFrameAsync(Http2FrameType.Continuation, Http2FrameFlags.EndHeaders, 1, client.Block(H2FrameClient.Request("GET", "/")));
        Assert.Equal(Http2ErrorCode.ProtocolError, (await client.ReadGoAwayAsync()).ErrorCode);
    }

    [Fact]
    public async Task PushPromiseFromAClient_IsAConnectionProtocolError()
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync();
        await client.SendFrameAsync(Http2FrameType.PushPromise, Http2FrameFlags.EndHeaders, 1, [0, 0, 0, 2]);
        Assert.Equal(Http2ErrorCode.ProtocolError, (await client.ReadGoAwayAsync()).ErrorCode);
    }

    [Fact]
    public async Task AFrameLargerThanOurMaxFrameSize_IsAConnectionFrameSizeError()
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync();
        await client.SendHeadersAsync(1, false, H2FrameClient.Request("POST", "/"));
        await client.SendDataAsync(1, new byte[16385], endStream: true);
        Assert.Equal(Http2ErrorCode.FrameSizeError, (await client.ReadGoAwayAsync()).ErrorCode);
    }

    [Fact]
    public async Task StreamsBeyondMaxConcurrentStreams_AreRefused()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using H2FrameClient client = await H2FrameClient.StartAsync(async s =>
        {
            await release.Task.WaitAsync(s.Aborted);
            await s.WriteResponseHeadAsync(200, null, endStream: true);
        }, new Http2Limits { MaxConcurrentStreams = 2 });
        await client.GetAsync(1, "/");
        await client.GetAsync(3, "/");
        await client.GetAsync(5, "/");
        Assert.Equal(Http2ErrorCode.RefusedStream, await client.ReadRstAsync(5));
        release.SetResult();
        var answered = new HashSet<int>();
        while (answered.Count < 2)
        {
            H2Frame headers = await client.ReadUntilAsync(f => f.Type == Http2FrameType.Headers);
            Assert.Contains((":status", "200"), await client.ReadBlockAsync(headers));
            answered.Add(headers.StreamId);
        }

        Assert.Equal(new[] { 1, 3 }, answered.Order());

        await client.GetAsync(7, "/");
        Assert.Equal(200, (await client.ReadResponseAsync(7)).Status);
    }

    [Fact]
    public async Task FramesOnAStreamWeReset_AreIgnored()
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync(async s => await Task.Delay(Timeout.Infinite, s.Aborted), new Http2Limits { StreamWindow = 100 });
        await client.SendHeadersAsync(1, false, H2FrameClient.Request("POST", "/"));
        await client.SendDataAsync(1, new byte[101], endStream: false);
        Assert.Equal(Http2ErrorCode.FlowControlError, await client.ReadRstAsync(1));
        await client.SendDataAsync(1, "more", endStream: false);
        await client.SendHeadersAsync(1, true, ("x-trailer", "1"));
        await client.SendPingAsync(5);
        var before = new List<H2Frame>();
        await client.ReadUntilAsync(f => f.Type == Http2FrameType.Ping, before);
        Assert.DoesNotContain(before, f => f.Type is Http2FrameType.RstStream or Http2FrameType.GoAway);
    }
}
