using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Http.H2;

/// <summary>
/// The HTTP/2 connection with real clients over a real socket: curl (<c>--http2-prior-knowledge</c>) and nghttp
/// (Debian nghttp2-client). Both are installed by .ci/run: a missing one fails the test rather than skipping it.
/// </summary>
public class Http2RealClientTests
{
    private static string Require(string program)
        => Tools.FindOnPath(program) ?? throw new InvalidOperationException($"{program} is not installed (.ci/run installs it)");

    [Fact]
    public async Task Curl_Gets_WithPriorKnowledge()
    {
        // One URL per run: curl 7.88.1 (Debian 12) fails to reuse a prior-knowledge connection for a second URL
        // (curl/curl#10634, fixed after that release), whatever the server.
        string curl = Require("curl");
        await using var server = new Http2TestServer();
        (int code, string output) = await Tools.RunAsync(curl,
        [
            "--silent", "--show-error", "--http2-prior-knowledge",
            "--write-out", "|%{http_code} %{http_version}\n", server.Url("/first?a=1"),
        ]);

        Assert.True(code == 0, output);
        Assert.Contains($"GET /first?a=1 http 127.0.0.1:{server.Port} Http2|200 2", output);
        Assert.Empty(server.Errors);
    }

    [Fact]
    public async Task Curl_PostsABody_ThatIsEchoed()
    {
        string curl = Require("curl");
        await using var server = new Http2TestServer();
        string body = new('z', 200_000);
        (int code, string output) = await Tools.RunAsync(curl,
            ["--silent", "--show-error", "--http2-prior-knowledge", "--data-binary", "@-", "--write-out", "|%{http_code} %{size_download}", server.Url("/echo")],
            input: body);

        Assert.True(code == 0, output);
        Assert.Contains(body + "|200 200000", output);
    }

    [Fact]
    public async Task Curl_DownloadsALargeResponse()
    {
        string curl = Require("curl");
        await using var server = new Http2TestServer();
        (int code, string output) = await Tools.RunAsync(curl,
            ["--silent", "--show-error", "--http2-prior-knowledge", "--output", "/dev/null", "--write-out", "%{http_code} %{size_download}", server.Url("/big/3000000")]);

        Assert.True(code == 0, output);
        Assert.Equal("200 3000000", output.Trim());
    }

    [Fact]
    public async Task Nghttp_GetsConcurrentStreams_AndPostsData()
    {
        string nghttp = Require("nghttp");
        await using var server = new Http2TestServer();
        (int code, string output) = await Tools.RunAsync(nghttp, ["--stat", server.Url("/one"), server.Url("/two"), server.Url("/big/100000")]);
        Assert.True(code == 0, output);
        Assert.Contains($"GET /one http 127.0.0.1:{server.Port} Http2", output);
        Assert.Contains($"GET /two http 127.0.0.1:{server.Port} Http2", output);
        Assert.Equal(100000, output.Count(c => c == 'x'));

        using var temp = new TempDirectory();
        string file = Path.Combine(temp.Path, "body.bin");
        await File.WriteAllTextAsync(file, "posted with nghttp");
        (code, output) = await Tools.RunAsync(nghttp, ["--data", file, server.Url("/echo")]);
        Assert.True(code == 0, output);
        Assert.Contains("posted with nghttp", output);
        Assert.Empty(server.Errors);
    }
}
