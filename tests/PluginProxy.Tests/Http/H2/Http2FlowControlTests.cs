using System.Buffers.Binary;
using PluginProxy.Http.Codec.H2;
using PluginProxy.Http.Engine.H2;

namespace PluginProxy.Tests.Http.H2;

/// <summary>Flow control both ways (RFC 9113 §5.2, §6.9): we never send beyond the client's windows, and it may not send beyond ours.</summary>
public class Http2FlowControlTests
{
    [Fact]
    public async Task ALargeResponse_AdvancesOnlyOnWindowUpdate_OfTheStreamAndTheConnection()
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync(settings: [new Http2Setting(Http2SettingId.InitialWindowSize, 100)]);
        await client.GetAsync(1, "/big/70000");
        await client.ReadUntilAsync(f => f.Type == Http2FrameType.Headers);

        long granted = 100;
        long received = 0;
        long connectionGranted = 65535;

        // Exactly the stream window, then nothing until a WINDOW_UPDATE (a PING answered proves the server is idle).
        received += await ReadDataAsync(client, granted - received);
        Assert.Equal(100, received);
        await AssertIdleAsync(client);

        await client.SendWindowUpdateAsync(1, 1000);
        granted += 1000;
        received += await ReadDataAsync(client, granted - received);
        Assert.Equal(1100, received);
        await AssertIdleAsync(client);

        // A stream window larger than the rest of the connection window: the connection window holds it back.
        await client.SendWindowUpdateAsync(1, 100000);
        granted += 100000;
        received += await ReadDataAsync(client, connectionGranted - received);
        Assert.Equal(65535, received);
        await AssertIdleAsync(client);

        await client.SendWindowUpdateAsync(0, 10000);
        connectionGranted += 10000;
        received += await ReadDataAsync(client, 70000 - received);
        Assert.Equal(70000, received);
    }

    [Fact]
    public async Task DataFrames_RespectTheClientsMaxFrameSize()
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync(settings: [new Http2Setting(Http2SettingId.MaxFrameSize, 20000)]);
        await client.SendWindowUpdateAsync(0, 100000);
        await client.GetAsync(1, "/big/40000");
        H2Response response = await client.ReadResponseAsync(1);
        Assert.Equal(40000, response.Body.Length);
    }

    [Fact]
    public async Task ReadingTheBody_SendsWindowUpdates_SoTheClientCanSendMoreThanTheWindow()
    {
        var limits = new Http2Limits { StreamWindow = 1000, ConnectionWindow = 65535 };
        await using H2FrameClient client = await H2FrameClient.StartAsync(async stream =>
        {
            long total = 0;
            byte[] buffer = new byte[300];
            int n;
            while ((n = await stream.ReadBodyAsync(buffer, stream.Aborted)) > 0)
            {
                total += n;
            }

            await stream.WriteResponseHeadAsync(200, null, endStream: false);
            await stream.WriteDataAsync(System.Text.Encoding.ASCII.GetBytes(total.ToString()), endStream: true);
        }, limits);
        await client.SendHeadersAsync(1, false, H2FrameClient.Request("POST", "/count"));
        // 500 bytes a round stay within the 1000-byte window; each is read, so it opens again.
        for (int round = 0; round < 10; round++)
        {
            await client.SendDataAsync(1, new byte[500], endStream: false);
            H2Frame update = await client.ReadUntilAsync(f => f.Type == Http2FrameType.WindowUpdate && f.StreamId == 1);
            Assert.True(BinaryPrimitives.ReadUInt32BigEndian(update.Payload) >= 500);
        }

        await client.SendDataAsync(1, [], endStream: true);
        Assert.Equal("5000", (await client.ReadResponseAsync(1)).Text);
    }

    [Fact]
    public async Task DataBeyondTheStreamWindow_IsAStreamFlowControlError()
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync(async s => await Task.Delay(Timeout.Infinite, s.Aborted), new Http2Limits { StreamWindow = 1000 });
        await client.SendHeadersAsync(1, false, H2FrameClient.Request("POST", "/"));
        await client.SendDataAsync(1, new byte[1001], endStream: false);
        Assert.Equal(Http2ErrorCode.FlowControlError, await client.ReadRstAsync(1));
    }

    [Fact]
    public async Task DataBeyondTheConnectionWindow_IsAConnectionFlowControlError()
    {
        var limits = new Http2Limits { StreamWindow = 60000, ConnectionWindow = 65535, MaxConcurrentStreams = 4 };
        await using H2FrameClient client = await H2FrameClient.StartAsync(async s => await Task.Delay(Timeout.Infinite, s.Aborted), limits);
        await client.SendHeadersAsync(1, false, H2FrameClient.Request("POST", "/"));
        await client.SendHeadersAsync(3, false, H2FrameClient.Request("POST", "/"));
        for (int i = 0; i < 3; i++)
        {
            await client.SendDataAsync(1, new byte[16000], endStream: false);
        }

        await client.SendDataAsync(3, new byte[16000], endStream: false);
        await client.SendDataAsync(3, new byte[2000], endStream: false);
        Assert.Equal(Http2ErrorCode.FlowControlError, (await client.ReadGoAwayAsync()).ErrorCode);
    }

    [Fact]
    public async Task AnInitialWindowSizeThatOverflowsAStreamWindow_IsAConnectionFlowControlError()
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync(async s => await Task.Delay(Timeout.Infinite, s.Aborted));
        await client.GetAsync(1, "/");
        await Http2ConnectionTests.Wait(() => client.Connection.ActiveStreams == 1);
        await client.SendWindowUpdateAsync(1, int.MaxValue - 65535);
        await client.SendSettingsAsync(new Http2Setting(Http2SettingId.InitialWindowSize, 65536));
        Assert.Equal(Http2ErrorCode.FlowControlError, (await client.ReadGoAwayAsync()).ErrorCode);
    }

    [Fact]
    public async Task AWindowUpdateOverflowingTheConnectionWindow_IsAConnectionFlowControlError()
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync();
        await client.SendWindowUpdateAsync(0, int.MaxValue);
        Assert.Equal(Http2ErrorCode.FlowControlError, (await client.ReadGoAwayAsync()).ErrorCode);
    }

    [Fact]
    public async Task DataNobodyReads_GivesTheConnectionWindowBack_WhenTheHandlerIsDone()
    {
        var limits = new Http2Limits { StreamWindow = 60000, ConnectionWindow = 65535 };
        await using H2FrameClient client = await H2FrameClient.StartAsync(
            async s => await s.WriteResponseHeadAsync(200, null, endStream: true), limits);
        await client.SendHeadersAsync(1, false, H2FrameClient.Request("POST", "/ignored"));
        Assert.Equal(200, (await client.ReadResponseAsync(1)).Status);
        Assert.Equal(Http2ErrorCode.NoError, await client.ReadRstAsync(1));

        // The client may have sent this before it saw the RST_STREAM: dropped, and the connection window reopens.
        for (int i = 0; i < 3; i++)
        {
            await client.SendDataAsync(1, new byte[16000], endStream: false);
        }

        H2Frame update = await client.ReadUntilAsync(f => f.Type == Http2FrameType.WindowUpdate && f.StreamId == 0);
        Assert.True(BinaryPrimitives.ReadUInt32BigEndian(update.Payload) >= 32767);
    }

    /// <summary>Reads DATA frames of stream 1 until <paramref name="expected"/> bytes came; fails if a frame goes beyond.</summary>
    private static async Task<long> ReadDataAsync(H2FrameClient client, long expected)
    {
        long total = 0;
        while (total < expected)
        {
            H2Frame frame = await client.ReadUntilAsync(f => f.Type == Http2FrameType.Data && f.StreamId == 1);
            total += frame.Payload.Length;
            Assert.True(total <= expected, $"the server sent {total} bytes where the windows allowed {expected}");
        }

        return total;
    }

    /// <summary>A PING answered with no DATA before it: the server had nothing it was allowed to send.</summary>
    private static async Task AssertIdleAsync(H2FrameClient client)
    {
        await client.SendPingAsync(99);
        var before = new List<H2Frame>();
        await client.ReadUntilAsync(f => f.Type == Http2FrameType.Ping, before);
        Assert.DoesNotContain(before, f => f.Type == Http2FrameType.Data);
    }
}
