using System.Buffers;
using System.Buffers.Binary;
using PluginProxy.Http.Codec.H2;
using PluginProxy.Http.Engine.H2.Upstream;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Http.H2.Upstream;

/// <summary>The client-role HTTP/2 connection against a scripted server: settings, refusals, GOAWAY, malformed responses.</summary>
public class Http2ServerConnectionFailureTests
{
    private static async Task<Http2ClientStream> GetAsync(H2RawServer server, string path = "/")
    {
        Assert.True(server.Connection.TryOpenStream(out Http2ClientStream stream));
        await stream.WriteRequestHeadAsync("GET", "https", "example.test", path, null, endStream: true);
        return stream;
    }

    [Fact]
    public async Task Start_SendsThePrefaceAndSettings_AcknowledgesTheServers_AndAnswersPing()
    {
        var server = new H2RawServer(new Http2UpstreamOptions { StreamWindow = 70000, ConnectionWindow = 300000 });
        await using (server)
        {
            H2Frame settings = await server.ReadFrameAsync();
            Assert.Equal(Http2FrameType.Settings, settings.Type);
            var values = new Dictionary<Http2SettingId, uint>();
            for (int i = 0; i < settings.Payload.Length; i += 6)
            {
                values[(Http2SettingId)BinaryPrimitives.ReadUInt16BigEndian(settings.Payload.AsSpan(i))] = BinaryPrimitives.ReadUInt32BigEndian(settings.Payload.AsSpan(i + 2));
            }

            Assert.Equal(0u, values[Http2SettingId.EnablePush]);
            Assert.Equal(70000u, values[Http2SettingId.InitialWindowSize]);
            H2Frame window = await server.ReadFrameAsync();
            Assert.Equal((Http2FrameType.WindowUpdate, 0), (window.Type, window.StreamId));
            Assert.Equal(300000 - 65535, BinaryPrimitives.ReadInt32BigEndian(window.Payload));

            await server.SendAsync(H2RawServer.Frame(w => FrameWriter.WriteSettings(w, [new(Http2SettingId.MaxConcurrentStreams, 2), new(Http2SettingId.HeaderTableSize, 0)])));
            H2Frame ack = await server.ReadFrameAsync();
            Assert.True(ack.Type == Http2FrameType.Settings && ack.Has(Http2FrameFlags.Ack));
            Assert.Equal(2u, server.Connection.MaxConcurrentStreams);

            await server.SendAsync(H2RawServer.Frame(w => FrameWriter.WritePing(w, 0x1122334455667788, ack: false)));
            H2Frame pong = await server.ReadFrameAsync();
            Assert.True(pong.Type == Http2FrameType.Ping && pong.Has(Http2FrameFlags.Ack));
            Assert.Equal(0x1122334455667788ul, BinaryPrimitives.ReadUInt64BigEndian(pong.Payload));

            // With HEADER_TABLE_SIZE 0 the next block starts with a table size update to 0 and indexes nothing.
            Http2ClientStream stream = await GetAsync(server, "/p");
            H2Frame headers = await server.ReadFrameAsync();
            Assert.Equal(Http2FrameType.Headers, headers.Type);
            Assert.Equal(0x20, headers.Payload[0]);
            Assert.Equal([(":method", "GET"), (":scheme", "https"), (":authority", "example.test"), (":path", "/p")], server.Decode(headers));
            stream.Dispose();
        }
    }

    [Fact]
    public async Task RefusedStream_IsReportedAsRefused_AndTheConnectionGoesOn()
    {
        await using H2RawServer server = await H2RawServer.StartAsync();
        Http2ClientStream stream = await GetAsync(server);
        H2Frame headers = await server.ReadUntilAsync(f => f.Type == Http2FrameType.Headers);

        await server.SendRstAsync(headers.StreamId, Http2ErrorCode.RefusedStream);

        var error = await Assert.ThrowsAsync<Http2StreamAbortedException>(() => stream.ReadResponseHeadAsync().AsTask());
        Assert.True(error.WasRefused);
        Assert.True(stream.WasRefused);
        Assert.Equal(Http2ErrorCode.RefusedStream, stream.ResetCode);
        Assert.Equal(0, server.Connection.ActiveStreams);
        Assert.False(server.Connection.IsDraining);

        Http2ClientStream next = await GetAsync(server, "/next");
        Assert.Equal(3, next.Id);
    }

    [Fact]
    public async Task ResetWithAnotherCode_IsNotARefusal()
    {
        await using H2RawServer server = await H2RawServer.StartAsync();
        Http2ClientStream stream = await GetAsync(server);
        await server.ReadUntilAsync(f => f.Type == Http2FrameType.Headers);

        await server.SendRstAsync(1, Http2ErrorCode.InternalError);

        var error = await Assert.ThrowsAsync<Http2StreamAbortedException>(() => stream.ReadResponseHeadAsync().AsTask());
        Assert.False(error.WasRefused);
        Assert.Equal(Http2ErrorCode.InternalError, error.Code);
    }

    [Fact]
    public async Task GoAway_RefusesTheStreamsAboveItsLastId_FinishesTheOthers_ThenCloses()
    {
        await using H2RawServer server = await H2RawServer.StartAsync();
        Http2ClientStream first = await GetAsync(server, "/1");
        Http2ClientStream second = await GetAsync(server, "/2");
        Http2ClientStream third = await GetAsync(server, "/3");
        Assert.True(server.Connection.TryOpenStream(out Http2ClientStream unsent));
        await server.ReadUntilAsync(f => f.Type == Http2FrameType.Headers && f.StreamId == 5);

        await server.SendGoAwayAsync(1, Http2ErrorCode.NoError);

        foreach (Http2ClientStream stream in new[] { second, third })
        {
            var error = await Assert.ThrowsAsync<Http2StreamAbortedException>(() => stream.ReadResponseHeadAsync().AsTask());
            Assert.True(error.WasRefused);
        }

        var notSent = await Assert.ThrowsAsync<Http2StreamAbortedException>(
            () => unsent.WriteRequestHeadAsync("GET", "https", "example.test", "/4", null, endStream: true).AsTask());
        Assert.True(notSent.WasRefused);
        Assert.True(server.Connection.IsDraining);
        Assert.False(server.Connection.TryOpenStream(out _));
        Assert.False(first.Aborted.IsCancellationRequested);

        await server.SendHeadersAsync(1, endStream: false, (":status", "200"), ("content-length", "2"));
        await server.SendDataAsync(1, "ok", endStream: true);
        Assert.Equal(200, (await first.ReadResponseHeadAsync()).Status);
        Assert.Equal("ok", System.Text.Encoding.ASCII.GetString(await Http2ServerConnectionTests.ReadAllAsync(first)));
        Assert.False(first.WasRefused);

        await server.Connection.SettingsReceived;
        await server.Run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(server.Connection.IsClosed);
    }

    [Fact]
    public async Task GoAwayWithAnError_AbortsTheProcessedStreams_WithoutRefusingThem()
    {
        await using H2RawServer server = await H2RawServer.StartAsync();
        Http2ClientStream stream = await GetAsync(server);
        await server.ReadUntilAsync(f => f.Type == Http2FrameType.Headers);

        await server.SendGoAwayAsync(1, Http2ErrorCode.InternalError);
        await server.DisposeAsync();

        var error = await Assert.ThrowsAsync<Http2StreamAbortedException>(() => stream.ReadResponseHeadAsync().AsTask());
        Assert.False(error.WasRefused);
        Assert.Equal(Http2ErrorCode.InternalError, server.Connection.ErrorCode);
    }

    public static TheoryData<string, string[]> BadHeads => new()
    {
        { "no :status", ["content-type", "text/plain"] },
        { ":status twice", [":status", "200", ":status", "204"] },
        { "two digits", [":status", "20"] },
        { "not digits", [":status", "2x0"] },
        { "a request pseudo-field", [":status", "200", ":path", "/"] },
        { ":status after a field", ["server", "x", ":status", "200"] },
        { "an uppercase name", [":status", "200", "Server", "x"] },
        { "connection", [":status", "200", "connection", "close"] },
        { "transfer-encoding", [":status", "200", "transfer-encoding", "chunked"] },
        { "a bad content-length", [":status", "200", "content-length", "12a"] },
        { "conflicting content-lengths", [":status", "200", "content-length", "1", "content-length", "2"] },
    };

    [Theory]
    [MemberData(nameof(BadHeads))]
    public async Task AMalformedResponseHead_IsAStreamProtocolError(string what, string[] fields)
    {
        await using H2RawServer server = await H2RawServer.StartAsync();
        Http2ClientStream stream = await GetAsync(server);
        await server.ReadUntilAsync(f => f.Type == Http2FrameType.Headers);

        await server.SendHeadersAsync(1, endStream: false, [.. fields.Chunk(2).Select(p => (p[0], p[1]))]);

        var error = await Assert.ThrowsAsync<Http2StreamAbortedException>(() => stream.ReadResponseHeadAsync().AsTask());
        Assert.Equal(Http2ErrorCode.ProtocolError, error.Code);
        H2Frame rst = await server.ReadUntilAsync(f => f.Type == Http2FrameType.RstStream);
        Assert.True((1, Http2ErrorCode.ProtocolError) == (rst.StreamId, rst.ErrorCode), what);
        Assert.False(server.Connection.IsDraining);
    }

    [Theory]
    [InlineData("3", "ab", true)]
    [InlineData("1", "ab", false)]
    public async Task DataNotMatchingContentLength_IsAStreamProtocolError(string length, string data, bool fewer)
    {
        await using H2RawServer server = await H2RawServer.StartAsync();
        Http2ClientStream stream = await GetAsync(server);
        await server.ReadUntilAsync(f => f.Type == Http2FrameType.Headers);

        await server.SendHeadersAsync(1, endStream: false, (":status", "200"), ("content-length", length));
        await server.SendDataAsync(1, data, endStream: fewer);

        Assert.Equal(200, (await stream.ReadResponseHeadAsync()).Status);
        await Assert.ThrowsAsync<Http2StreamAbortedException>(() => Http2ServerConnectionTests.ReadAllAsync(stream));
        H2Frame rst = await server.ReadUntilAsync(f => f.Type == Http2FrameType.RstStream);
        Assert.Equal(Http2ErrorCode.ProtocolError, rst.ErrorCode);
    }

    [Fact]
    public async Task InterimHeads_AreSkipped_AndHeadResponsesHaveNoBody()
    {
        await using H2RawServer server = await H2RawServer.StartAsync();
        Assert.True(server.Connection.TryOpenStream(out Http2ClientStream stream));
        await stream.WriteRequestHeadAsync("HEAD", "https", "example.test", "/", null, endStream: true);
        await server.ReadUntilAsync(f => f.Type == Http2FrameType.Headers);

        await server.SendHeadersAsync(1, endStream: false, (":status", "103"), ("link", "</a.css>"));
        await server.SendHeadersAsync(1, endStream: true, (":status", "200"), ("content-length", "1234"));

        Http2UpstreamResponse head = await stream.ReadResponseHeadAsync();
        Assert.Equal((200, "1234", 1), (head.Status, head.Get("content-length"), stream.InterimResponses));
        Assert.Equal(0, await stream.ReadBodyAsync(new byte[10]));
    }

    [Fact]
    public async Task PushPromise_IsAConnectionError_AndAbortsEveryStream()
    {
        await using H2RawServer server = await H2RawServer.StartAsync();
        Http2ClientStream stream = await GetAsync(server);
        await server.ReadUntilAsync(f => f.Type == Http2FrameType.Headers);

        await server.SendAsync(H2RawServer.Frame(w =>
        {
            byte[] payload = [0, 0, 0, 2, 0x82];
            new FrameHeader(payload.Length, Http2FrameType.PushPromise, Http2FrameFlags.EndHeaders, 1).Write(w.GetSpan(FrameHeader.Size));
            w.Advance(FrameHeader.Size);
            w.Write(payload);
        }));

        H2Frame goAway = await server.ReadUntilAsync(f => f.Type == Http2FrameType.GoAway);
        Assert.Equal(Http2ErrorCode.ProtocolError, goAway.ErrorCode);
        var error = await Assert.ThrowsAsync<Http2StreamAbortedException>(() => stream.ReadResponseHeadAsync().AsTask());
        Assert.False(error.WasRefused);
        await server.Run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(Http2ErrorCode.ProtocolError, server.Connection.ErrorCode);
    }

    [Fact]
    public async Task ResetNoErrorAfterACompleteResponse_DropsTheRestOfTheRequest()
    {
        await using H2RawServer server = await H2RawServer.StartAsync();
        Assert.True(server.Connection.TryOpenStream(out Http2ClientStream stream));
        await stream.WriteRequestHeadAsync("POST", "https", "example.test", "/upload", null, endStream: false);
        await server.ReadUntilAsync(f => f.Type == Http2FrameType.Headers);

        await server.SendHeadersAsync(1, endStream: true, (":status", "413"));
        await server.SendRstAsync(1, Http2ErrorCode.NoError);

        Assert.Equal(413, (await stream.ReadResponseHeadAsync()).Status);
        Assert.Equal(0, await stream.ReadBodyAsync(new byte[10]));
        await Wait.UntilAsync(() => server.Connection.ActiveStreams == 0, "the stream closed");
        await stream.WriteDataAsync(new byte[100], endStream: true);
        Assert.False(stream.Aborted.IsCancellationRequested);
        Assert.Null(stream.ResetCode);
    }

    [Fact]
    public async Task PaddingOfResponseData_IsGivenBackToTheStreamWindow_WithoutTheBodyBeingRead()
    {
        await using H2RawServer server = await H2RawServer.StartAsync();
        Http2ClientStream stream = await GetAsync(server);
        await server.ReadUntilAsync(f => f.Type == Http2FrameType.Headers);
        await server.SendHeadersAsync(1, endStream: false, (":status", "200"));

        // 520 DATA frames of one byte and 255 bytes of padding: 133,640 bytes against the stream window, 520 buffered.
        // The padding never reaches the buffer, so only giving it back keeps the server's view of the window from
        // shrinking for good; more than half the stream window (128 KiB) of it is owed, so an update must come now.
        byte[] frame = new byte[FrameHeader.Size + 257];
        new FrameHeader(257, Http2FrameType.Data, Http2FrameFlags.Padded, 1).Write(frame);
        frame[FrameHeader.Size] = 255;
        frame[FrameHeader.Size + 1] = (byte)'x';
        for (int i = 0; i < 520; i++)
        {
            await server.SendAsync(frame);
        }

        H2Frame update = await server.ReadUntilAsync(f => f.Type == Http2FrameType.WindowUpdate && f.StreamId == 1);
        Assert.True(System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(update.Payload) >= 128 * 1024);
        Assert.Equal(200, (await stream.ReadResponseHeadAsync()).Status);
    }
}
