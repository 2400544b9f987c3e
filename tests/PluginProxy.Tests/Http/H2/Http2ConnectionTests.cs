using System.Buffers.Binary;
using System.Text;
using PluginProxy.Http.Codec.H2;
using PluginProxy.Http.Engine.H2;

namespace PluginProxy.Tests.Http.H2;

/// <summary>The client-facing HTTP/2 connection: preface, SETTINGS, requests and responses, PING, GOAWAY.</summary>
public class Http2ConnectionTests
{
    [Fact]
    public async Task Start_SendsOurSettings_OpensTheConnectionWindow_AndAcknowledgesTheClients()
    {
        var limits = new Http2Limits { MaxConcurrentStreams = 7, StreamWindow = 70000, MaxHeaderListSize = 9000, ConnectionWindow = 200000 };
        await using H2FrameClient client = H2FrameClient.Open(limits: limits);
        await client.SendAsync(Http2Protocol.ClientPreface.ToArray());
        await client.SendSettingsAsync(new Http2Setting(Http2SettingId.InitialWindowSize, 1000));

        H2Frame settings = (await client.ReadFrameAsync())!;
        Assert.Equal(Http2FrameType.Settings, settings.Type);
        Assert.False(settings.Has(Http2FrameFlags.Ack));
        var values = new Dictionary<Http2SettingId, uint>();
        for (int i = 0; i < settings.Payload.Length; i += 6)
        {
            values[(Http2SettingId)BinaryPrimitives.ReadUInt16BigEndian(settings.Payload.AsSpan(i))] = BinaryPrimitives.ReadUInt32BigEndian(settings.Payload.AsSpan(i + 2));
        }

        Assert.Equal(7u, values[Http2SettingId.MaxConcurrentStreams]);
        Assert.Equal(70000u, values[Http2SettingId.InitialWindowSize]);
        Assert.Equal(9000u, values[Http2SettingId.MaxHeaderListSize]);
        Assert.Equal(16384u, values[Http2SettingId.MaxFrameSize]);
        Assert.Equal(0u, values[Http2SettingId.EnablePush]);

        H2Frame window = (await client.ReadFrameAsync())!;
        Assert.Equal(Http2FrameType.WindowUpdate, window.Type);
        Assert.Equal(0, window.StreamId);
        Assert.Equal(200000 - 65535, (int)BinaryPrimitives.ReadUInt32BigEndian(window.Payload));

        H2Frame ack = (await client.ReadFrameAsync())!;
        Assert.Equal(Http2FrameType.Settings, ack.Type);
        Assert.True(ack.Has(Http2FrameFlags.Ack));
        Assert.Empty(ack.Payload);
    }

    [Fact]
    public async Task AWrongPreface_IsAConnectionError()
    {
        await using H2FrameClient client = H2FrameClient.Open();
        await client.SendAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
        H2Frame goAway = await client.ReadGoAwayAsync();
        Assert.Equal(Http2ErrorCode.ProtocolError, goAway.ErrorCode);
        Assert.Null(await client.ReadFrameAsync());
        await client.Run.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task APrefaceNotFollowedBySettings_IsAConnectionError()
    {
        await using H2FrameClient client = H2FrameClient.Open();
        await client.SendAsync([.. Http2Protocol.ClientPreface, .. H2FrameClient.Frame(w => FrameWriter.WritePing(w, 1, false))]);
        Assert.Equal(Http2ErrorCode.ProtocolError, (await client.ReadGoAwayAsync()).ErrorCode);
    }

    [Fact]
    public async Task Get_IsAnswered_WithTheRequestAsHttp2_AndNoConnectionSpecificField()
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync();
        await client.GetAsync(1, "/hello?x=1");
        H2Response response = await client.ReadResponseAsync(1);
        Assert.Equal(200, response.Status);
        Assert.Equal("GET /hello?x=1 http example.test Http2", response.Text);
        Assert.Equal("text/plain", response.Field("content-type"));
        Assert.Null(response.Field("connection"));
        Assert.All(response.Fields, f => Assert.Equal(f.Name, f.Name.ToLowerInvariant()));
    }

    [Fact]
    public async Task TheRequestHead_IsAViewWithHostFromAuthority_SchemeAndJoinedCookies()
    {
        var seen = new TaskCompletionSource<(string? Host, string Scheme, string? Cookie, int Count, string? Authority)>();
        await using H2FrameClient client = await H2FrameClient.StartAsync(async stream =>
        {
            var request = stream.Request;
            seen.TrySetResult((request.Headers.Get("Host"), request.Scheme, request.Headers.Get("cookie"), request.Headers.GetValues("cookie").Count, request.Authority));
            await stream.WriteResponseHeadAsync(204, null, endStream: true);
        });
        await client.SendHeadersAsync(1, true, (":method", "GET"), (":scheme", "https"), (":path", "/"), (":authority", "api.test:8443"),
            ("cookie", "a=1"), ("cookie", "b=2"));
        Assert.Equal(204, (await client.ReadResponseAsync(1)).Status);
        var (host, scheme, cookie, count, authority) = await seen.Task;
        Assert.Equal("api.test:8443", host);
        Assert.Equal("api.test:8443", authority);
        Assert.Equal("https", scheme);
        Assert.Equal("a=1; b=2", cookie);
        Assert.Equal(1, count);
    }

    [Fact]
    public async Task Post_EchoesTheBody_InSeveralDataFrames_AndTheTrailers()
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync();
        await client.SendHeadersAsync(1, false, H2FrameClient.Request("POST", "/echo", ("content-length", "11")));
        await client.SendDataAsync(1, "hello ", endStream: false);
        await client.SendDataAsync(1, "world", endStream: true);
        H2Response response = await client.ReadResponseAsync(1);
        Assert.Equal("hello world", response.Text);

        await client.SendHeadersAsync(3, false, H2FrameClient.Request("PUT", "/echo"));
        await client.SendDataAsync(3, "abc", endStream: false);
        await client.SendHeadersAsync(3, true, ("x-checksum", "42"));
        response = await client.ReadResponseAsync(3);
        Assert.Equal("abc", response.Text);
        Assert.Equal(new List<(string, string)> { ("x-checksum", "42") }, response.Trailers);
    }

    [Fact]
    public async Task Streams_RunConcurrently()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int started = 0;
        await using H2FrameClient client = await H2FrameClient.StartAsync(async stream =>
        {
            if (Interlocked.Increment(ref started) == 3)
            {
                release.TrySetResult();
            }

            await release.Task.WaitAsync(stream.Aborted);
            await stream.WriteResponseHeadAsync(200, null, endStream: false);
            await stream.WriteDataAsync(Encoding.ASCII.GetBytes(stream.Request.Path), endStream: true);
        });
        await client.GetAsync(1, "/a");
        await client.GetAsync(3, "/b");
        await client.GetAsync(5, "/c");
        var bodies = new Dictionary<int, string>();
        while (bodies.Count < 3)
        {
            H2Frame frame = await client.ReadUntilAsync(f => f.Type == Http2FrameType.Data);
            bodies[frame.StreamId] = Encoding.ASCII.GetString(frame.Payload);
        }

        Assert.Equal("/a", bodies[1]);
        Assert.Equal("/b", bodies[3]);
        Assert.Equal("/c", bodies[5]);
    }

    [Fact]
    public async Task Ping_IsAcknowledged_WithTheSameData()
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync();
        await client.SendPingAsync(0x0102030405060708);
        H2Frame ack = await client.ReadUntilAsync(f => f.Type == Http2FrameType.Ping);
        Assert.True(ack.Has(Http2FrameFlags.Ack));
        Assert.Equal(0x0102030405060708ul, BinaryPrimitives.ReadUInt64BigEndian(ack.Payload));
    }

    [Fact]
    public async Task AHandlerThatThrows_ResetsOnlyItsStream()
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync();
        await client.GetAsync(1, "/throw");
        Assert.Equal(Http2ErrorCode.InternalError, await client.ReadRstAsync(1));
        await client.GetAsync(3, "/fine");
        Assert.Equal(200, (await client.ReadResponseAsync(3)).Status);
    }

    [Fact]
    public async Task ClientReset_FiresTheStreamsAbortedToken()
    {
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using H2FrameClient client = await H2FrameClient.StartAsync(async stream =>
        {
            stream.Aborted.Register(() => aborted.TrySetResult());
            await Task.Delay(Timeout.Infinite, stream.Aborted);
        });
        await client.SendHeadersAsync(1, false, H2FrameClient.Request("POST", "/slow"));
        await Wait(() => client.Connection.ActiveStreams == 1);
        await client.SendRstAsync(1, Http2ErrorCode.Cancel);
        await aborted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await Wait(() => client.Connection.ActiveStreams == 0);
    }

    [Fact]
    public async Task BeginShutdown_SendsGoAway_FinishesOpenStreams_IgnoresNewOnes_ThenCloses()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int handled = 0;
        await using H2FrameClient client = await H2FrameClient.StartAsync(async stream =>
        {
            Interlocked.Increment(ref handled);
            await release.Task;
            await stream.WriteResponseHeadAsync(200, null, endStream: true);
        });
        await client.GetAsync(1, "/");
        await Wait(() => client.Connection.ActiveStreams == 1);
        client.Connection.BeginShutdown();
        H2Frame goAway = await client.ReadGoAwayAsync();
        Assert.Equal(Http2ErrorCode.NoError, goAway.ErrorCode);
        Assert.Equal(1, goAway.LastStreamId);

        await client.GetAsync(3, "/late");
        await client.SendPingAsync(7);
        await client.ReadUntilAsync(f => f.Type == Http2FrameType.Ping);
        release.SetResult();
        Assert.Equal(200, (await client.ReadResponseAsync(1)).Status);
        Assert.Null(await client.ReadFrameAsync());
        await client.Run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, handled);
    }

    [Fact]
    public async Task ClientGoAway_ClosesTheConnectionOnceItsStreamsAreDone()
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync();
        await client.GetAsync(1, "/");
        await client.ReadResponseAsync(1);
        await client.SendAsync(H2FrameClient.Frame(w => FrameWriter.WriteGoAway(w, 0, Http2ErrorCode.NoError)));
        await client.ReadGoAwayAsync();
        Assert.Null(await client.ReadFrameAsync());
        await client.Run.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task BytesAlreadyRead_AreGivenAsInitialBytes()
    {
        (PluginProxy.TestKit.InMemoryTransport a, PluginProxy.TestKit.InMemoryTransport b) = PluginProxy.TestKit.InMemoryTransport.CreatePair();
        byte[] sniffed = Http2Protocol.ClientPreface[..10].ToArray();
        var connection = new Http2ClientConnection(b, EchoHandler.HandleAsync, initialBytes: sniffed);
        Task run = Task.Run(connection.RunAsync);
        await a.SendAsync(Http2Protocol.ClientPreface[10..].ToArray());
        await a.SendAsync(H2FrameClient.Frame(w => FrameWriter.WriteSettings(w, [])));
        await a.SendAsync(H2FrameClient.Frame(w => FrameWriter.WritePing(w, 3, ack: false)));
        byte[] buffer = new byte[4096];
        var received = new List<byte>();
        while (!ContainsPingAck(received))
        {
            int n = await a.ReceiveAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.NotEqual(0, n);
            received.AddRange(buffer.AsSpan(0, n).ToArray());
        }

        a.Dispose();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Null(connection.ErrorCode);
        b.Dispose();
    }

    private static bool ContainsPingAck(List<byte> bytes)
    {
        byte[] all = [.. bytes];
        int offset = 0;
        while (FrameHeader.TryRead(all.AsSpan(offset), out FrameHeader header) && all.Length - offset >= FrameHeader.Size + header.Length)
        {
            if (header.Type == Http2FrameType.Ping && header.HasFlag(Http2FrameFlags.Ack))
            {
                return true;
            }

            offset += FrameHeader.Size + header.Length;
        }

        return false;
    }

    internal static Task Wait(Func<bool> condition) => Infrastructure.Wait.UntilAsync(condition, "the connection's state");
}
