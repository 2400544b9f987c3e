using PluginProxy.Http.Codec.H2;
using PluginProxy.Http.Engine.H2;

namespace PluginProxy.Tests.Http.H2;

/// <summary>
/// The connection's deadlines (<see cref="Http2Limits"/>: idle, SETTINGS ACK, write, window stall), checked by a
/// heartbeat the test beats on a clock it advances: the default limits of tens of seconds pass at once, nothing sleeps.
/// </summary>
public class Http2TimeoutTests
{
    private static readonly TimeSpan Done = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task AConnectionWithoutStreams_IsClosedWithGoAwayNoError_AfterTheIdleTimeout()
    {
        var heartbeat = new ManualHeartbeat();
        await using H2FrameClient client = await H2FrameClient.StartAsync(heartbeat);
        await AssertAliveAsync(client);
        heartbeat.Advance(TimeSpan.FromSeconds(59));
        await AssertAliveAsync(client);

        heartbeat.Advance(TimeSpan.FromSeconds(2));
        H2Frame goAway = await client.ReadGoAwayAsync();
        Assert.Equal(Http2ErrorCode.NoError, goAway.ErrorCode);
        Assert.Equal(0, goAway.LastStreamId);
        await client.Run.WaitAsync(Done);
        Assert.Null(client.Connection.ErrorCode);
        Assert.Contains("idle timeout", client.Connection.EndDetail);
        Assert.Equal(0, heartbeat.Count);
    }

    [Fact]
    public async Task ABusyConnection_IsNotClosedByTheIdleTimeout_WhichCountsFromItsLastStream()
    {
        var heartbeat = new ManualHeartbeat();
        var release = new TaskCompletionSource();
        await using H2FrameClient client = await H2FrameClient.StartAsync(heartbeat, async s =>
        {
            await release.Task.WaitAsync(s.Aborted);
            await s.WriteResponseHeadAsync(200, null, endStream: true, s.Aborted);
        });
        await client.GetAsync(1, "/");
        await Http2ConnectionTests.Wait(() => client.Connection.ActiveStreams == 1);
        heartbeat.Advance(TimeSpan.FromMinutes(10));
        await AssertAliveAsync(client);

        release.SetResult();
        Assert.Equal(200, (await client.ReadResponseAsync(1)).Status);
        await Http2ConnectionTests.Wait(() => client.Connection.ActiveStreams == 0);
        heartbeat.Advance(TimeSpan.FromSeconds(59));
        await AssertAliveAsync(client);

        heartbeat.Advance(TimeSpan.FromSeconds(2));
        H2Frame goAway = await client.ReadGoAwayAsync();
        Assert.Equal(Http2ErrorCode.NoError, goAway.ErrorCode);
        Assert.Equal(1, goAway.LastStreamId);
        await client.Run.WaitAsync(Done);
    }

    [Fact]
    public async Task SettingsNeverAcknowledged_EndTheConnectionWithSettingsTimeout()
    {
        var heartbeat = new ManualHeartbeat();
        await using H2FrameClient client = H2FrameClient.Open(heartbeat: heartbeat);
        await client.SendAsync(Http2Protocol.ClientPreface.ToArray());
        await client.SendSettingsAsync();
        Assert.Equal(Http2FrameType.Settings, (await client.ReadFrameAsync())!.Type);
        await AssertAliveAsync(client);
        heartbeat.Advance(TimeSpan.FromSeconds(9));
        await AssertAliveAsync(client);

        heartbeat.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(Http2ErrorCode.SettingsTimeout, (await client.ReadGoAwayAsync()).ErrorCode);
        await client.Run.WaitAsync(Done);
        Assert.Equal(Http2ErrorCode.SettingsTimeout, client.Connection.ErrorCode);
    }

    [Fact]
    public async Task AClientThatStopsReading_IsAborted_AfterTheWriteTimeout()
    {
        var heartbeat = new ManualHeartbeat();
        Http2ServerStream? seen = null;
        await using H2FrameClient client = await H2FrameClient.StartAsync(heartbeat, s =>
        {
            seen = s;
            return EchoHandler.HandleAsync(s);
        }, paced: true);
        await AssertAliveAsync(client);
        PacedTransport server = client.Paced!;
        server.Pause();

        // More than the client's window: the handler still has data to write when the connection ends.
        await client.GetAsync(1, "/big/100000");
        await Http2ConnectionTests.Wait(() => server.Waiting == 1);
        heartbeat.Advance(TimeSpan.FromSeconds(29));
        Assert.False(server.IsDisposed);
        Assert.False(client.Run.IsCompleted);

        heartbeat.Advance(TimeSpan.FromSeconds(2));
        await client.Run.WaitAsync(Done);
        Assert.True(server.IsDisposed);
        Assert.True(seen!.Aborted.IsCancellationRequested);
        Assert.Null(client.Connection.ErrorCode);
        Assert.Contains("write timeout", client.Connection.EndDetail);
        while (await client.ReadFrameAsync() is not null)
        {
            // The frames sent before the client stopped reading, then the end of the connection.
        }

        Assert.Equal(0, heartbeat.Count);
    }

    [Fact]
    public async Task AClientThatReadsSlowlyButSteadily_IsNotCutByTheWriteTimeout()
    {
        var heartbeat = new ManualHeartbeat();
        await using H2FrameClient client = await H2FrameClient.StartAsync(heartbeat, paced: true,
            settings: [new Http2Setting(Http2SettingId.InitialWindowSize, 1 << 20)]);
        await client.SendWindowUpdateAsync(0, 1 << 20);
        await AssertAliveAsync(client);
        PacedTransport server = client.Paced!;
        server.Pause();
        await client.GetAsync(1, "/big/100000");
        Task<H2Response> response = client.ReadResponseAsync(1);

        // Each write waits 20 s of the clock (the write timeout is 30 s), several writes in all (the frames written while
        // one write is pending go out together in the next).
        int writes = 0;
        while (true)
        {
            await Http2ConnectionTests.Wait(() => server.Waiting > 0 || response.IsCompleted);
            if (response.IsCompleted)
            {
                break;
            }

            int sent = server.Sent;
            heartbeat.Advance(TimeSpan.FromSeconds(20));
            server.Allow();
            await Http2ConnectionTests.Wait(() => server.Sent > sent);
            writes++;
        }

        Assert.Equal(100000, (await response).Body.Length);
        Assert.True(writes >= 2, $"{writes} writes");
        Assert.False(server.IsDisposed);
        Assert.False(client.Run.IsCompleted);
        Assert.Null(client.Connection.ErrorCode);
    }

    [Fact]
    public async Task AStreamWhoseSendWindowStaysExhausted_IsResetWithCancel_AndTheConnectionGoesOn()
    {
        var heartbeat = new ManualHeartbeat();
        Http2ServerStream? seen = null;
        await using H2FrameClient client = await H2FrameClient.StartAsync(heartbeat, s =>
        {
            seen = s;
            return EchoHandler.HandleAsync(s);
        }, settings: [new Http2Setting(Http2SettingId.InitialWindowSize, 0)]);
        await client.GetAsync(1, "/big/100");
        await client.ReadUntilAsync(f => f.Type == Http2FrameType.Headers && f.StreamId == 1);
        await Http2ConnectionTests.Wait(() => client.Connection.StreamsWaitingForWindow == 1);
        heartbeat.Advance(TimeSpan.FromSeconds(29));
        await AssertAliveAsync(client);

        heartbeat.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(Http2ErrorCode.Cancel, await client.ReadRstAsync(1));
        Assert.True(seen!.Aborted.IsCancellationRequested);
        await AssertAliveAsync(client);
        Assert.False(client.Run.IsCompleted);
        Assert.Null(client.Connection.ErrorCode);
    }

    [Fact]
    public async Task AStreamThatGetsSomeWindow_WaitsAfresh()
    {
        var heartbeat = new ManualHeartbeat();
        await using H2FrameClient client = await H2FrameClient.StartAsync(heartbeat, settings: [new Http2Setting(Http2SettingId.InitialWindowSize, 0)]);
        await client.GetAsync(1, "/big/100");
        await Http2ConnectionTests.Wait(() => client.Connection.StreamsWaitingForWindow == 1);
        heartbeat.Advance(TimeSpan.FromSeconds(20));
        await client.SendWindowUpdateAsync(1, 10);
        await client.ReadUntilAsync(f => f.Type == Http2FrameType.Data && f.StreamId == 1);
        await Http2ConnectionTests.Wait(() => client.Connection.StreamsWaitingForWindow == 1);
        heartbeat.Advance(TimeSpan.FromSeconds(20));

        await client.SendWindowUpdateAsync(1, 90);
        H2Response response = await client.ReadResponseAsync(1);
        Assert.Equal(90, response.Body.Length);
        Assert.Null(client.Connection.ErrorCode);
    }

    [Fact]
    public async Task AWriteThatGaveUpWaitingForWindow_NoLongerCountsAsStalled()
    {
        var heartbeat = new ManualHeartbeat();
        using var giveUp = new CancellationTokenSource();
        var release = new TaskCompletionSource();
        await using H2FrameClient client = await H2FrameClient.StartAsync(heartbeat, async s =>
        {
            await s.WriteResponseHeadAsync(200, null, endStream: false, s.Aborted);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await s.WriteDataAsync(new byte[10], endStream: true, giveUp.Token));
            await release.Task.WaitAsync(s.Aborted);
        }, settings: [new Http2Setting(Http2SettingId.InitialWindowSize, 0)]);
        await client.GetAsync(1, "/");
        await Http2ConnectionTests.Wait(() => client.Connection.StreamsWaitingForWindow == 1);
        giveUp.Cancel();
        await Http2ConnectionTests.Wait(() => client.Connection.StreamsWaitingForWindow == 0);
        heartbeat.Advance(TimeSpan.FromSeconds(31));
        await AssertAliveAsync(client);
        release.SetResult();
    }

    [Fact]
    public async Task AConnectionWindowThatStaysExhausted_EndsTheConnectionWithEnhanceYourCalm()
    {
        var heartbeat = new ManualHeartbeat();
        await using H2FrameClient client = await H2FrameClient.StartAsync(heartbeat, settings: [new Http2Setting(Http2SettingId.InitialWindowSize, 1 << 20)]);
        await client.GetAsync(1, "/big/70000");
        await Http2ConnectionTests.Wait(() => client.Connection.StreamsWaitingForWindow == 1);
        heartbeat.Advance(TimeSpan.FromSeconds(29));
        await AssertAliveAsync(client);

        heartbeat.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(Http2ErrorCode.EnhanceYourCalm, (await client.ReadGoAwayAsync()).ErrorCode);
        await client.Run.WaitAsync(Done);
        Assert.Equal(Http2ErrorCode.EnhanceYourCalm, client.Connection.ErrorCode);
    }

    [Fact]
    public async Task WithoutAHeartbeat_ATimerOfTheConnectionsOwn_ChecksTheDeadlines()
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync(limits: new Http2Limits { IdleTimeout = TimeSpan.FromMilliseconds(200) });
        H2Frame goAway = await client.ReadGoAwayAsync();
        Assert.Equal(Http2ErrorCode.NoError, goAway.ErrorCode);
        await client.Run.WaitAsync(Done);
        Assert.Contains("idle timeout", client.Connection.EndDetail);
    }

    [Fact]
    public void Limits_RejectATimeoutOfZero()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Http2Limits { WriteTimeout = TimeSpan.Zero }.Validate());
        new Http2Limits { IdleTimeout = null, SettingsAckTimeout = null, WriteTimeout = null, WindowStallTimeout = null }.Validate();
    }

    /// <summary>A PING answered, with no GOAWAY or RST_STREAM before it: the connection processed everything sent so far and goes on.</summary>
    private static async Task AssertAliveAsync(H2FrameClient client)
    {
        await client.SendPingAsync(42);
        var before = new List<H2Frame>();
        await client.ReadUntilAsync(f => f.Type == Http2FrameType.Ping && f.Has(Http2FrameFlags.Ack), before);
        Assert.DoesNotContain(before, f => f.Type is Http2FrameType.GoAway or Http2FrameType.RstStream);
    }
}
