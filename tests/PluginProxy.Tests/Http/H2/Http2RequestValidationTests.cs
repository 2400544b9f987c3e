using PluginProxy.Http.Codec.H2;
using PluginProxy.Http.Engine.H2;

namespace PluginProxy.Tests.Http.H2;

/// <summary>RFC 9113 §8.2–8.3: a malformed request is a stream error PROTOCOL_ERROR, and the connection goes on.</summary>
public class Http2RequestValidationTests
{
    /// <summary>Fields as "name=value" strings, in order.</summary>
    public static TheoryData<string, string[]> Malformed => new()
    {
        { "uppercase name", [":method=GET", ":scheme=http", ":path=/", ":authority=a", "X-Upper=1"] },
        { "pseudo after regular", [":method=GET", ":scheme=http", "accept=*/*", ":path=/"] },
        { "unknown pseudo", [":method=GET", ":scheme=http", ":path=/", ":status=200"] },
        { "repeated pseudo", [":method=GET", ":scheme=http", ":path=/", ":path=/again"] },
        { "no method", [":scheme=http", ":path=/", ":authority=a"] },
        { "no path", [":method=GET", ":scheme=http", ":authority=a"] },
        { "no scheme", [":method=GET", ":path=/", ":authority=a"] },
        { "empty path", [":method=GET", ":scheme=http", ":path=", ":authority=a"] },
        { "relative path", [":method=GET", ":scheme=http", ":path=index.html", ":authority=a"] },
        { "asterisk on GET", [":method=GET", ":scheme=http", ":path=*", ":authority=a"] },
        { "connection", [":method=GET", ":scheme=http", ":path=/", ":authority=a", "connection=keep-alive"] },
        { "keep-alive", [":method=GET", ":scheme=http", ":path=/", ":authority=a", "keep-alive=5"] },
        { "proxy-connection", [":method=GET", ":scheme=http", ":path=/", ":authority=a", "proxy-connection=close"] },
        { "transfer-encoding", [":method=GET", ":scheme=http", ":path=/", ":authority=a", "transfer-encoding=chunked"] },
        { "upgrade", [":method=GET", ":scheme=http", ":path=/", ":authority=a", "upgrade=websocket"] },
        { "te gzip", [":method=GET", ":scheme=http", ":path=/", ":authority=a", "te=gzip"] },
        { "host differs", [":method=GET", ":scheme=http", ":path=/", ":authority=a.test", "host=b.test"] },
        { "connect with path", [":method=CONNECT", ":authority=a.test:443", ":path=/"] },
        { "connect without authority", [":method=CONNECT"] },
        { "value with leading space", [":method=GET", ":scheme=http", ":path=/", ":authority=a", "accept= x"] },
        { "userinfo", [":method=GET", ":scheme=http", ":path=/", ":authority=user@a"] },
        { "bad content-length", [":method=GET", ":scheme=http", ":path=/", ":authority=a", "content-length=1x"] },
        { "content-length without data", [":method=GET", ":scheme=http", ":path=/", ":authority=a", "content-length=3"] },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task MalformedRequest_IsResetWithProtocolError_AndTheConnectionGoesOn(string why, string[] fields)
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync();
        await client.SendHeadersAsync(1, true, fields.Select(Split).ToArray());
        Assert.True(Http2ErrorCode.ProtocolError == await client.ReadRstAsync(1), why);

        await client.GetAsync(3, "/next");
        Assert.Equal(200, (await client.ReadResponseAsync(3)).Status);
    }

    [Theory]
    [InlineData("OPTIONS", "*", "te=trailers")]
    [InlineData("GET", "/", "host=example.test")]
    public async Task AcceptedVariants_AreAnswered(string method, string path, string extra)
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync();
        await client.SendHeadersAsync(1, true, H2FrameClient.Request(method, path, Split(extra)));
        Assert.Equal($"{method} {path} http example.test Http2", (await client.ReadResponseAsync(1)).Text);
    }

    [Fact]
    public async Task Connect_NeedsOnlyTheAuthority()
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync();
        await client.SendHeadersAsync(1, true, (":method", "CONNECT"), (":authority", "db.test:5432"));
        Assert.Equal("CONNECT db.test:5432 http db.test:5432 Http2", (await client.ReadResponseAsync(1)).Text);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public async Task DataNotMatchingContentLength_IsResetWithProtocolError(int sent)
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync();
        await client.SendHeadersAsync(1, false, H2FrameClient.Request("POST", "/", ("content-length", "3")));
        await client.SendDataAsync(1, new string('a', sent), endStream: true);
        Assert.Equal(Http2ErrorCode.ProtocolError, await client.ReadRstAsync(1));
    }

    [Fact]
    public async Task TrailersWithoutEndStream_OrWithPseudoFields_AreResetWithProtocolError()
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync();
        await client.SendHeadersAsync(1, false, H2FrameClient.Request("POST", "/"));
        await client.SendHeadersAsync(1, false, ("x-trailer", "1"));
        Assert.Equal(Http2ErrorCode.ProtocolError, await client.ReadRstAsync(1));

        await client.SendHeadersAsync(3, false, H2FrameClient.Request("POST", "/"));
        await client.SendHeadersAsync(3, true, (":path", "/"));
        Assert.Equal(Http2ErrorCode.ProtocolError, await client.ReadRstAsync(3));
    }

    [Fact]
    public async Task AHeaderListOverTheLimit_IsAnswered431_AndTheConnectionGoesOn()
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync(limits: new Http2Limits { MaxHeaderListSize = 1000 });
        await client.SendHeadersAsync(1, true, H2FrameClient.Request("GET", "/", ("x-big", new string('b', 2000))));
        Assert.Equal(431, (await client.ReadResponseAsync(1)).Status);

        await client.GetAsync(3, "/next");
        Assert.Equal(200, (await client.ReadResponseAsync(3)).Status);
    }

    private static (string, string) Split(string field)
    {
        int equals = field.IndexOf('=', 1);
        return (field[..equals], field[(equals + 1)..]);
    }
}
