using System.Text;
using PluginProxy.Http.Codec.H2;
using PluginProxy.Http.Engine.H2;
using PluginProxy.Http.Engine.H2.Upstream;

namespace PluginProxy.Tests.Http.H2.Upstream;

/// <summary>The client-role HTTP/2 connection against the server-role one (<see cref="Http2ClientConnection"/>) in memory.</summary>
public class Http2ServerConnectionTests
{
    internal static async Task<byte[]> ReadAllAsync(Http2ClientStream stream)
    {
        var all = new MemoryStream();
        byte[] buffer = new byte[7000];
        int n;
        while ((n = await stream.ReadBodyAsync(buffer)) > 0)
        {
            all.Write(buffer, 0, n);
        }

        return all.ToArray();
    }

    [Fact]
    public async Task Get_ReturnsTheResponse_AndLeavesOutConnectionSpecificFields()
    {
        HttpRequestSeen? seen = null;
        await using var pair = new UpstreamPair(async s =>
        {
            seen = new HttpRequestSeen(s.Request.Method, s.Request.Target, s.Request.Scheme, s.Request.Authority,
                s.Request.Headers.Contains("Connection"), s.Request.Headers.Contains("X-Hop"), s.Request.Headers.GetValues("X-Kept").FirstOrDefault(),
                s.Request.Headers.GetValues("Te").FirstOrDefault());
            await EchoHandler.HandleAsync(s);
        });
        using Http2ClientStream stream = pair.Open();
        Assert.Equal(0, stream.Id);
        await stream.WriteRequestHeadAsync("GET", "http", "example.test", "/hello?x=1",
            [new("Connection", "keep-alive, X-Hop"), new("X-Hop", "1"), new("Keep-Alive", "5"), new("Transfer-Encoding", "chunked"),
             new("Upgrade", "h2c"), new("TE", "trailers"), new("X-Kept", "yes"), new("Host", "example.test")], endStream: true);
        Assert.Equal(1, stream.Id);

        Http2UpstreamResponse response = await stream.ReadResponseHeadAsync();
        string body = Encoding.ASCII.GetString(await ReadAllAsync(stream));

        Assert.Equal(200, response.Status);
        Assert.Equal("text/plain", response.Get("content-type"));
        Assert.Null(response.Get("connection"));
        Assert.StartsWith("GET /hello?x=1 http example.test", body);
        Assert.True(stream.ResponseEnded);
        Assert.Null(stream.ResponseTrailers);
        Assert.Equal(new HttpRequestSeen("GET", "/hello?x=1", "http", "example.test", false, false, "yes", "trailers"), seen);
        Assert.Equal(0, pair.Client.ActiveStreams);
    }

    private sealed record HttpRequestSeen(string Method, string Target, string? Scheme, string? Authority, bool Connection, bool Hop, string? Kept, string? Te);

    [Fact]
    public async Task Post_ABodyLargerThanTheWindows_IsSentAndReceivedUnderFlowControl()
    {
        var limits = new Http2Limits { StreamWindow = 16384, ConnectionWindow = 65535 };
        var options = new Http2UpstreamOptions { StreamWindow = 20000, ConnectionWindow = 65535 };
        await using var pair = new UpstreamPair(limits: limits, options: options);
        byte[] sent = new byte[300_000];
        new Random(7).NextBytes(sent);
        using Http2ClientStream stream = pair.Open();
        await stream.WriteRequestHeadAsync("POST", "http", "example.test", "/echo", [new("content-length", sent.Length.ToString())], endStream: false);

        Task<byte[]> received = Task.Run(async () =>
        {
            Http2UpstreamResponse head = await stream.ReadResponseHeadAsync();
            Assert.Equal(200, head.Status);
            return await ReadAllAsync(stream);
        });
        await stream.WriteDataAsync(sent.AsMemory(0, 100_000), endStream: false);
        await stream.WriteDataAsync(sent.AsMemory(100_000), endStream: true);

        Assert.Equal(sent, await received.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Empty(pair.Server.ErrorCode is null ? [] : new[] { pair.Server.ErrorCode });
    }

    [Fact]
    public async Task Trailers_GoBothWays()
    {
        await using var pair = new UpstreamPair();
        using Http2ClientStream stream = pair.Open();
        await stream.WriteRequestHeadAsync("POST", "https", "example.test", "/echo", [new("te", "trailers")], endStream: false);
        await stream.WriteDataAsync("hello"u8.ToArray(), endStream: false);
        await stream.WriteTrailersAsync([new("X-Checksum", "abc"), new("Connection", "close")]);

        Http2UpstreamResponse head = await stream.ReadResponseHeadAsync();
        byte[] body = await ReadAllAsync(stream);

        Assert.Equal(200, head.Status);
        Assert.Equal("hello", Encoding.ASCII.GetString(body));
        Assert.NotNull(stream.ResponseTrailers);
        Assert.Equal("abc", stream.ResponseTrailers!.Get("x-checksum"));
        Assert.Null(stream.ResponseTrailers.Get("connection"));
    }

    [Fact]
    public async Task Streams_UpToTheServersMaxConcurrentStreams_ThenTryOpenStreamIsFalse()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int started = 0;
        var allStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var pair = new UpstreamPair(async s =>
        {
            if (Interlocked.Increment(ref started) == 3)
            {
                allStarted.TrySetResult();
            }

            await release.Task;
            await s.WriteResponseHeadAsync(200, [new("x-path", s.Request.Path)], endStream: false, s.Aborted);
            await s.WriteDataAsync(Encoding.ASCII.GetBytes(s.Request.Path), endStream: true, s.Aborted);
        }, new Http2Limits { MaxConcurrentStreams = 3 });
        await pair.Client.SettingsReceived;
        Assert.Equal(3u, pair.Client.MaxConcurrentStreams);

        Http2ClientStream[] streams = [pair.Open(), pair.Open(), pair.Open()];
        Assert.False(pair.Client.TryOpenStream(out _));

        // Heads sent in another order than opened still get increasing ids on the wire.
        for (int i = streams.Length - 1; i >= 0; i--)
        {
            await streams[i].WriteRequestHeadAsync("GET", "http", "example.test", $"/s{i}", null, endStream: true);
        }

        Assert.Equal([5, 3, 1], streams.Select(s => s.Id));
        await allStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        release.SetResult();
        for (int i = 0; i < streams.Length; i++)
        {
            Http2UpstreamResponse head = await streams[i].ReadResponseHeadAsync();
            Assert.Equal($"/s{i}", head.Get("x-path"));
            Assert.Equal($"/s{i}", Encoding.ASCII.GetString(await ReadAllAsync(streams[i])));
            streams[i].Dispose();
        }

        Assert.Equal(0, pair.Client.ActiveStreams);
        Assert.True(pair.Client.TryOpenStream(out Http2ClientStream again));
        again.Dispose();
        Assert.Equal(0, pair.Client.ActiveStreams);
    }

    [Fact]
    public async Task Reset_ByTheCaller_SendsRstStream_AndAbortsTheStream()
    {
        var handlerAborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var pair = new UpstreamPair(async s =>
        {
            await Task.Delay(Timeout.Infinite, s.Aborted).ContinueWith(_ => handlerAborted.TrySetResult());
        });
        Http2ClientStream stream = pair.Open();
        await stream.WriteRequestHeadAsync("GET", "http", "example.test", "/wait", null, endStream: true);
        Task<Http2UpstreamResponse> head = stream.ReadResponseHeadAsync().AsTask();

        stream.Reset(Http2ErrorCode.Cancel);

        var error = await Assert.ThrowsAsync<Http2StreamAbortedException>(() => head);
        Assert.False(error.WasRefused);
        Assert.Equal(Http2ErrorCode.Cancel, stream.ResetCode);
        Assert.True(stream.Aborted.IsCancellationRequested);
        await handlerAborted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, pair.Client.ActiveStreams);
    }

    [Fact]
    public async Task BeginShutdown_LetsTheOpenStreamFinish_RefusesNewOnes_ThenCloses()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var pair = new UpstreamPair(async s =>
        {
            await release.Task;
            await EchoHandler.HandleAsync(s);
        });
        using Http2ClientStream stream = pair.Open();
        await stream.WriteRequestHeadAsync("GET", "http", "example.test", "/a", null, endStream: true);

        pair.Client.BeginShutdown();
        Assert.True(pair.Client.IsDraining);
        Assert.False(pair.Client.TryOpenStream(out _));
        release.SetResult();

        Assert.Equal(200, (await stream.ReadResponseHeadAsync()).Status);
        Assert.NotEmpty(await ReadAllAsync(stream));
        await pair.ClientRun.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(pair.Client.IsClosed);
        Assert.Null(pair.Client.ErrorCode);
    }
}
