using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Http.Compression;

/// <summary>
/// The <c>compress</c> response analyzer end to end: a stub origin sends a large text body, the proxy compresses it for
/// the client that accepts it (HTTP/1.1, HTTP/1.0, HTTP/2), and the test decompresses it with .NET's own decoders.
/// </summary>
public class CompressionTests
{
    /// <summary>About 100 KB of HTML that compresses well (but not to nothing).</summary>
    internal static readonly string Page = MakePage(1800);

    private const string Compress = "response_analyzers = [\"compress\"]";

    internal static string MakePage(int rows)
    {
        var text = new StringBuilder("<!doctype html><html><body><table>\n");
        for (int i = 0; i < rows; i++)
        {
            text.Append("<tr><td>row ").Append(i).Append("</td><td>item-").Append(i * 7919 % 10007).Append("</td><td>some text</td></tr>\n");
        }

        return text.Append("</table></body></html>\n").ToString();
    }

    /// <summary>An origin answering every request with <paramref name="body"/> and the given extra head fields, keep-alive.</summary>
    internal static HttpOrigin Origin(string body, string fields = "Content-Type: text/html; charset=utf-8\r\n", int status = 200) =>
        HttpOrigin.Respond($"HTTP/1.1 {status} {(status == 200 ? "OK" : "Other")}\r\n{fields}Content-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}");

    internal static string Decode(string? coding, byte[] body)
    {
        using var input = new MemoryStream(body);
        using Stream decoder = coding switch
        {
            "gzip" => new GZipStream(input, CompressionMode.Decompress),
            "br" => new BrotliStream(input, CompressionMode.Decompress),
            _ => throw new InvalidOperationException($"unexpected Content-Encoding {coding ?? "(none)"}"),
        };
        using var output = new MemoryStream();
        decoder.CopyTo(output);
        return Encoding.UTF8.GetString(output.ToArray());
    }

    private static async Task<RawResponse> GetAsync(RunningProxy proxy, string acceptEncoding, string method = "GET", string version = "HTTP/1.1")
    {
        using RawHttp client = await RawHttp.ConnectAsync(proxy);
        string accept = acceptEncoding.Length == 0 ? "" : $"Accept-Encoding: {acceptEncoding}\r\n";
        await client.SendAsync($"{method} /page {version}\r\nHost: a\r\n{accept}\r\n");
        return await client.ReadResponseAsync(headRequest: method == "HEAD");
    }

    [Theory]
    [InlineData("gzip", "gzip")]
    [InlineData("br", "br")]
    [InlineData("gzip, deflate, br", "br")]
    [InlineData("gzip;q=1.0, br;q=0.5", "gzip")]
    [InlineData("br;q=0, *", "gzip")]
    [InlineData("GZIP", "gzip")]
    public async Task TheCodingIsChosenByAcceptEncoding_ThenTheListenersPreference(string acceptEncoding, string expected)
    {
        await using HttpOrigin origin = Origin(Page, "Content-Type: text/html; charset=utf-8\r\nETag: \"v1\"\r\nAccept-Ranges: bytes\r\n");
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, Compress));

        RawResponse response = await GetAsync(proxy, acceptEncoding);

        Assert.Equal(200, response.Status);
        Assert.Equal(expected, response.Header("Content-Encoding"));
        Assert.Equal("Accept-Encoding", response.Header("Vary"));
        Assert.Equal("W/\"v1\"", response.Header("ETag"));
        Assert.Null(response.Header("Content-Length"));
        Assert.Null(response.Header("Accept-Ranges"));
        Assert.Equal("chunked", response.Header("Transfer-Encoding"));
        Assert.Equal(Page, Decode(expected, response.Body));
        Assert.True(response.Body.Length < Page.Length / 4, $"{response.Body.Length} bytes for {Page.Length}");
    }

    [Fact]
    public async Task TheListenersOrder_DecidesBetweenEqualWeights()
    {
        await using HttpOrigin origin = Origin(Page);
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, Compress + "\ncompress_algorithms = [\"gzip\", \"br\"]\ncompress_level = \"optimal\""));

        RawResponse response = await GetAsync(proxy, "br, gzip");

        Assert.Equal("gzip", response.Header("Content-Encoding"));
        Assert.Equal(Page, Decode("gzip", response.Body));
    }

    [Theory]
    [InlineData("")]
    [InlineData("identity")]
    [InlineData("gzip;q=0, br;q=0")]
    [InlineData("deflate")]
    public async Task AClientThatDoesNotAccept_GetsTheBodyAsIs_WithVary(string acceptEncoding)
    {
        await using HttpOrigin origin = Origin(Page);
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, Compress));

        RawResponse response = await GetAsync(proxy, acceptEncoding);

        Assert.Null(response.Header("Content-Encoding"));
        Assert.Equal("Accept-Encoding", response.Header("Vary"));
        Assert.Equal(Encoding.UTF8.GetByteCount(Page).ToString(System.Globalization.CultureInfo.InvariantCulture), response.Header("Content-Length"));
        Assert.Equal(Page, Encoding.UTF8.GetString(response.Body));
    }

    [Theory]
    [InlineData("Content-Type: image/png\r\n", 200)]
    [InlineData("Content-Type: text/html\r\nContent-Encoding: gzip\r\n", 200)]
    [InlineData("Content-Type: text/html\r\nContent-Range: bytes 0-99999/200000\r\n", 206)]
    [InlineData("Content-Type: text/html\r\nCache-Control: public, no-transform\r\n", 200)]
    [InlineData("Content-Type: text/html\r\n", 404)]
    [InlineData("", 200)]
    public async Task ResponsesThatMustNotBeCompressed_PassAsTheyCame(string fields, int status)
    {
        await using HttpOrigin origin = Origin(Page, fields, status);
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, Compress));

        RawResponse response = await GetAsync(proxy, "gzip, br");

        Assert.Equal(status, response.Status);
        Assert.Null(response.Header("Vary"));
        Assert.Equal(fields.Contains("Content-Encoding", StringComparison.Ordinal) ? "gzip" : null, response.Header("Content-Encoding"));
        Assert.Equal(Page, Encoding.UTF8.GetString(response.Body));
    }

    [Fact]
    public async Task ABodyUnderTheMinimumSize_IsNotCompressed_OneOfUnknownLengthIs()
    {
        string small = "<p>short</p>\n";
        await using HttpOrigin origin = Origin(small);
        await using HttpOrigin chunked = HttpOrigin.Respond($"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n{small.Length:x}\r\n{small}\r\n0\r\n\r\n");
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, Compress + "\ncompress_min_size = \"1k\""));
        await using RunningProxy unknown = await RunningProxy.StartAsync(HttpConfig.For(chunked.Address, Compress + "\ncompress_min_size = \"1k\""));

        RawResponse plain = await GetAsync(proxy, "gzip");
        RawResponse compressed = await GetAsync(unknown, "gzip");

        Assert.Null(plain.Header("Content-Encoding"));
        Assert.Equal(small, plain.BodyText);
        Assert.Equal("gzip", compressed.Header("Content-Encoding"));
        Assert.Equal(small, Decode("gzip", compressed.Body));
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("br")]
    public async Task AnEmptyBody_WithNoMinimumSize_IsAValidEmptyStream(string coding)
    {
        await using HttpOrigin origin = Origin("");
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, Compress + "\ncompress_min_size = 0"));

        RawResponse response = await GetAsync(proxy, coding);

        Assert.Equal(coding, response.Header("Content-Encoding"));
        Assert.NotEmpty(response.Body);
        Assert.Equal("", Decode(coding, response.Body));
    }

    [Fact]
    public async Task HeadRequests_AreLeftAlone()
    {
        await using HttpOrigin origin = Origin(Page);
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, Compress));

        RawResponse response = await GetAsync(proxy, "gzip", method: "HEAD");

        Assert.Equal(200, response.Status);
        Assert.Null(response.Header("Content-Encoding"));
        Assert.NotNull(response.Header("Content-Length"));
    }

    [Fact]
    public async Task AnHttp10Client_GetsTheCompressedBody_DelimitedByTheClose()
    {
        await using HttpOrigin origin = Origin(Page);
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, Compress));

        RawResponse response = await GetAsync(proxy, "gzip", version: "HTTP/1.0");

        Assert.Equal("gzip", response.Header("Content-Encoding"));
        Assert.Null(response.Header("Transfer-Encoding"));
        Assert.Equal("close", response.Header("Connection"));
        Assert.Equal(Page, Decode("gzip", response.Body));
    }

    [Fact]
    public async Task AChunkedBodyWithTrailers_IsCompressed_TheTrailersFollow_AndTheConnectionServesTheNextRequest()
    {
        byte[] page = Encoding.UTF8.GetBytes(Page);
        var raw = new StringBuilder("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n");
        for (int i = 0; i < page.Length; i += 10000)
        {
            string piece = Page.Substring(i, Math.Min(10000, page.Length - i));
            raw.Append($"{piece.Length:x}\r\n{piece}\r\n");
        }

        raw.Append("0\r\nX-Checksum: abc123\r\n\r\n");
        await using HttpOrigin origin = HttpOrigin.Respond(raw.ToString());
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, Compress));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        foreach (string coding in new[] { "br", "gzip" })
        {
            await client.SendAsync($"GET /data HTTP/1.1\r\nHost: a\r\nAccept-Encoding: {coding}\r\n\r\n");
            (string head, byte[] body, string trailers) = await ReadChunkedAsync(client);

            Assert.StartsWith("HTTP/1.1 200 ", head, StringComparison.Ordinal);
            Assert.Contains($"\r\nContent-Encoding: {coding}\r\n", head, StringComparison.Ordinal);
            Assert.Equal(Page, Decode(coding, body));
            Assert.Equal("X-Checksum: abc123\r\n", trailers);
        }
    }

    [Fact]
    public async Task ASlowBody_ReachesTheClientAsItComes_NotHeldUntilTheEnd()
    {
        string first = MakePage(300);
        string second = "<p>the rest</p>\n" + MakePage(200);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var origin = new HttpOrigin(async (_, socket) =>
        {
            byte[] head = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n");
            await socket.SendAllAsync((byte[])[.. head, .. Chunk(first)]);
            await gate.Task;
            await socket.SendAllAsync((byte[])[.. Chunk(second), .. "0\r\n\r\n"u8.ToArray()]);
            return true;
        });
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, Compress));
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{proxy.EndPoint().Port}/slow");
        request.Headers.AcceptEncoding.ParseAdd("gzip");

        using HttpResponseMessage response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("gzip", Assert.Single(response.Content.Headers.ContentEncoding));
        await using var gzip = new GZipStream(await response.Content.ReadAsStreamAsync(), CompressionMode.Decompress);

        // The origin holds the rest until the client decompressed all of the first part: only a flush gets it there.
        byte[] start = new byte[first.Length];
        using (var deadline = new CancellationTokenSource(Wait.DefaultDeadline))
        {
            await gzip.ReadExactlyAsync(start, deadline.Token);
        }

        gate.SetResult();
        using var rest = new StreamReader(gzip);
        Assert.Equal(first, Encoding.ASCII.GetString(start));
        Assert.Equal(second, await rest.ReadToEndAsync());
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("br")]
    public async Task AnHttp2Client_GetsTheCompressedBody_InDataFrames(string coding)
    {
        await using HttpOrigin origin = Origin(Page, "Content-Type: text/html\r\n");
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, Compress));
        using HttpClient client = H2.Http2ProxyTests.H2Client();

        for (int i = 0; i < 2; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, H2.Http2ProxyTests.Url(proxy, "/page")) { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
            request.Headers.AcceptEncoding.ParseAdd(coding);
            using HttpResponseMessage response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);

            Assert.Equal(HttpVersion.Version20, response.Version);
            Assert.Equal(coding, Assert.Single(response.Content.Headers.ContentEncoding));
            Assert.Null(response.Content.Headers.ContentLength);
            Assert.Contains("Accept-Encoding", response.Headers.Vary);
            Assert.Equal(Page, Decode(coding, await response.Content.ReadAsByteArrayAsync()));
        }
    }

    [Fact]
    public async Task AnHttp2Client_GetsTrailers_AfterACompressedBody()
    {
        await using HttpOrigin origin = HttpOrigin.Respond(
            $"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n{Page.Length:x}\r\n{Page}\r\n0\r\nX-Checksum: abc123\r\n\r\n");
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, Compress));
        using HttpClient client = H2.Http2ProxyTests.H2Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, H2.Http2ProxyTests.Url(proxy, "/page")) { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        request.Headers.AcceptEncoding.ParseAdd("gzip");

        using HttpResponseMessage response = await client.SendAsync(request);

        Assert.Equal(Page, Decode("gzip", await response.Content.ReadAsByteArrayAsync()));
        Assert.Equal("abc123", Assert.Single(response.TrailingHeaders.GetValues("X-Checksum")));
    }

    [Fact]
    public async Task InAfterResponseAnalyzers_TheProxysOwnReplyIsCompressedToo()
    {
        await using HttpOrigin origin = Origin(Page);
        using var scripts = new ScriptFolder();
        scripts.Write("page.csx", "if (Request.Path == \"/own\") { Respond(200, string.Concat(Enumerable.Repeat(\"<p>the proxy's own page</p>\\n\", 200)), \"text/html\"); }\n");
        await using RunningProxy proxy = await RunningProxy.StartAsync(scripts.Config(origin.Address, "request_analyzers = [\"page.csx\"]\nafter_response_analyzers = [\"compress\"]"));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync("GET /own HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\n\r\n");
        RawResponse own = await client.ReadResponseAsync();
        using RawHttp other = await RawHttp.ConnectAsync(proxy);
        await other.SendAsync("GET /page HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\n\r\n");
        RawResponse relayed = await other.ReadResponseAsync();

        Assert.Equal("gzip", own.Header("Content-Encoding"));
        Assert.Equal(own.Body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), own.Header("Content-Length"));
        Assert.Equal(string.Concat(Enumerable.Repeat("<p>the proxy's own page</p>\n", 200)), Decode("gzip", own.Body));
        Assert.Equal("gzip", relayed.Header("Content-Encoding"));
        Assert.Equal(Page, Decode("gzip", relayed.Body));
    }

    private static byte[] Chunk(string text) => Encoding.ASCII.GetBytes($"{text.Length:x}\r\n{text}\r\n");

    /// <summary>One chunked response off the wire: its head, its decoded body, and its trailer section as received.</summary>
    private static async Task<(string Head, byte[] Body, string Trailers)> ReadChunkedAsync(RawHttp client)
    {
        string head = await client.ReadRawUntilAsync("\r\n\r\n");
        Assert.Contains("\r\nTransfer-Encoding: chunked\r\n", head, StringComparison.Ordinal);
        var body = new List<byte>();
        while (true)
        {
            int size = Convert.ToInt32((await client.ReadRawUntilAsync("\r\n")).TrimEnd(), 16);
            if (size == 0)
            {
                break;
            }

            body.AddRange(await client.ReadBytesAsync(size));
            Assert.Equal("\r\n", Encoding.ASCII.GetString(await client.ReadBytesAsync(2)));
        }

        var trailers = new StringBuilder();
        for (string line = await client.ReadRawUntilAsync("\r\n"); line != "\r\n"; line = await client.ReadRawUntilAsync("\r\n"))
        {
            trailers.Append(line);
        }

        return (head, body.ToArray(), trailers.ToString());
    }
}
