using System.Net;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Http.H2;

/// <summary>
/// One rule, every HTTP version: the example <c>.csx</c> rules and the probe plugin's analyzers give the same result
/// to an HTTP/1.1 client and to an HTTP/2 one, since both run on the version-independent message.
/// </summary>
public class Http2ParityTests
{
    private static string Config(string originAddress, string listenerExtra, string extraSections = "") => HttpConfig.For(originAddress, listenerExtra,
        extraSections: extraSections).Replace("[global]\n", $"[global]\nscripts = \"{RepoPaths.Scripts}\"\nscript_cache = \"{RepoPaths.ScriptCache}\"\n");

    /// <summary>What a client saw: the status, the body, and the named response fields (lowercase names).</summary>
    private sealed record Seen(int Status, string Body, string Fields);

    private static async Task<Seen> OverHttp11Async(RunningProxy proxy, string path, string extraHead, string[] fields)
    {
        using RawHttp client = await RawHttp.ConnectAsync(proxy);
        await client.SendAsync($"GET {path} HTTP/1.1\r\nHost: a\r\n{extraHead}\r\n");
        RawResponse response = await client.ReadResponseAsync();
        return new Seen(response.Status, response.BodyText, string.Join("|", fields.Select(f => $"{f}={response.Header(f)}")));
    }

    private static async Task<Seen> OverHttp2Async(RunningProxy proxy, string path, string extraHead, string[] fields)
    {
        using HttpClient client = Http2ProxyTests.H2Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, Http2ProxyTests.Url(proxy, path))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        foreach (string line in extraHead.Split("\r\n", StringSplitOptions.RemoveEmptyEntries))
        {
            string[] pair = line.Split(':', 2);
            request.Headers.TryAddWithoutValidation(pair[0], pair[1].Trim());
        }

        using HttpResponseMessage response = await client.SendAsync(request);
        Assert.Equal(HttpVersion.Version20, response.Version);
        string Field(string name) => response.Headers.TryGetValues(name, out var v) || response.Content.Headers.TryGetValues(name, out v) ? string.Join(",", v) : "";
        return new Seen((int)response.StatusCode, await response.Content.ReadAsStringAsync(), string.Join("|", fields.Select(f => $"{f}={Field(f)}")));
    }

    private static async Task AssertSameAsync(RunningProxy proxy, string path, string extraHead, string[] fields, Seen expected)
    {
        Assert.Equal(expected, await OverHttp11Async(proxy, path, extraHead, fields));
        Assert.Equal(expected, await OverHttp2Async(proxy, path, extraHead, fields));
    }

    [Fact]
    public async Task ScriptRules_RewriteRequests_AndResponses_TheSameOverBothVersions()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origin.Address,
            "request_analyzers = [\"rules/rewrite-prefix.csx\"]\nresponse_analyzers = [\"rules/security-headers.csx\"]"));
        string[] fields = ["x-content-type-options", "referrer-policy"];

        await AssertSameAsync(proxy, "/legacy/items?page=2", "", fields,
            new Seen(200, "GET /v2/items?page=2 body=0\n", "x-content-type-options=nosniff|referrer-policy=strict-origin-when-cross-origin"));
        await AssertSameAsync(proxy, "/other", "", fields,
            new Seen(200, "GET /other body=0\n", "x-content-type-options=nosniff|referrer-policy=strict-origin-when-cross-origin"));
        Assert.Equal(2, origin.Requests.Count(r => r.Header("X-Rewritten-From") == "/legacy/"));
    }

    [Fact]
    public async Task AScriptChoosingTheBackend_ByCookie_ChoosesTheSameOverBothVersions()
    {
        await using HttpOrigin stable = HttpOrigin.Respond("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nstable");
        await using HttpOrigin canary = HttpOrigin.Respond("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\ncanary");
        string extra = $$"""
            [[backend]]
            name = "canary"
            servers = [{ name = "c", address = "{{canary.Address}}" }]
            """;
        await using RunningProxy proxy = await RunningProxy.StartAsync(
            Config(stable.Address, "request_analyzers = [\"rules/canary.csx\"]\nuse_backends = [\"canary\"]", extra));

        await AssertSameAsync(proxy, "/", "Cookie: theme=dark; canary=1\r\n", [], new Seen(200, "canary", ""));
        await AssertSameAsync(proxy, "/", "X-Canary: 1\r\n", [], new Seen(200, "canary", ""));
        await AssertSameAsync(proxy, "/", "Cookie: canary=0\r\n", [], new Seen(200, "stable", ""));
    }

    [Fact]
    public async Task PluginAnalyzers_FilterAndDeny_TheSameOverBothVersions()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address,
            "request_analyzers = [\"probe_request_filter\"]\nresponse_analyzers = [\"probe_frame_options\"]"));
        string[] fields = ["x-frame-options"];

        await AssertSameAsync(proxy, "/page", "", fields, new Seen(200, "GET /page body=0\n", "x-frame-options=DENY"));
        await AssertSameAsync(proxy, "/admin/users", "", fields, new Seen(403, "no admin here\n", "x-frame-options="));
        Assert.All(origin.Requests, r => Assert.Equal("seen", r.Header("X-Probe-Filter")));
        Assert.Equal(2, origin.Requests.Count);
    }
}
