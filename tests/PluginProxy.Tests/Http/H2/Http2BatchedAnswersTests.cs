using System.Net;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Http.H2;

/// <summary>
/// Many streams of one HTTP/2 connection answered by two servers at once, through the real executable: there socket
/// continuations run on the socket event threads, and the answers that arrive in one batch of events are sent to the
/// client in one write (EndOfBatch). Each stream must still get its own answer, whole, in the order of its frames.
/// </summary>
public class Http2BatchedAnswersTests
{
    private static string Config(string one, string two) => $$"""
        [global]
        plugins = "{{RepoPaths.PluginsBin}}"

        [[listener]]
        name = "web"
        bind = ["127.0.0.1:0"]
        supervisor = "http"
        backend = "app"
        access_log = false

        [[backend]]
        name = "app"
        servers = [{ name = "one", address = "{{one}}" }, { name = "two", address = "{{two}}" }]
        """;

    [Fact]
    public async Task HundredsOfConcurrentStreams_OverTwoServers_EachGetTheirOwnAnswer()
    {
        await using HttpOrigin one = HttpOrigin.Echo();
        await using HttpOrigin two = HttpOrigin.Echo();
        using var directory = new TempDirectory();
        using ProxyProcess proxy = ProxyProcess.Start(["run", "--config", directory.Write("proxy.toml", Config(one.Address, two.Address))]);
        int port = await proxy.WaitForListenerPortAsync("web");
        using HttpClient client = Http2ProxyTests.H2Client();

        // Every fourth request has a body (its DATA and the WINDOW_UPDATEs interleave with the answers).
        var results = await Task.WhenAll(Enumerable.Range(0, 400).Select(async i =>
        {
            bool post = i % 4 == 0;
            using var request = new HttpRequestMessage(post ? HttpMethod.Post : HttpMethod.Get, $"http://127.0.0.1:{port}/s/{i}")
            {
                Version = HttpVersion.Version20,
                VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            };
            if (post)
            {
                request.Content = new ByteArrayContent(new byte[i * 100]);
            }

            using HttpResponseMessage response = await client.SendAsync(request);
            string expected = $"{(post ? "POST" : "GET")} /s/{i} body={(post ? i * 100 : 0)}\n";
            return (response.Version, response.StatusCode, Body: await response.Content.ReadAsStringAsync(), Expected: expected);
        }));

        Assert.All(results, r => Assert.Equal((HttpVersion.Version20, HttpStatusCode.OK, r.Expected), (r.Version, r.StatusCode, r.Body)));
        Assert.True(one.Requests.Count > 0 && two.Requests.Count > 0, $"both servers take requests: {one.Requests.Count} and {two.Requests.Count}");
        Assert.Empty(one.Errors.Concat(two.Errors));
    }
}
