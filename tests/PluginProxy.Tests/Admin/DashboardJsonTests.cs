using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using PluginProxy.Host.Metrics;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Admin;

/// <summary>
/// What the dashboard reads (<c>GET /api/dashboard</c>: traffic totals with latency histograms, health and the last
/// check, plugins, scripts and reloads) and the page itself (<c>GET /</c>: self-contained, under a policy that lets
/// only its own inline style and script run). The page in a browser: <see cref="DashboardBrowserTests"/>.
/// </summary>
public sealed partial class DashboardJsonTests
{
    [Fact]
    public void Percentiles_InterpolateInsideTheirBucket_AndAreNullWithoutStreams()
    {
        var stats = new TrafficStats();
        Assert.Null(stats.Snapshot().PercentileMilliseconds(0.5));
        for (int i = 0; i < 50; i++)
        {
            stats.Record(200, 0, 0, TimeSpan.FromMicroseconds(2));
            stats.Record(200, 0, 0, TimeSpan.FromMicroseconds(3));
        }

        TrafficSnapshot snapshot = stats.Snapshot();
        // Below 8 µs each bucket is one microsecond wide: the 50th stream is the last of [2, 3), the 99th 49/50 into [3, 4).
        Assert.Equal(0.003, snapshot.PercentileMilliseconds(0.5)!.Value, 9);
        Assert.Equal(0.00398, snapshot.PercentileMilliseconds(0.99)!.Value, 9);

        stats.Record(200, 0, 0, TimeSpan.FromMilliseconds(250));
        double p100 = stats.Snapshot().PercentileMilliseconds(1)!.Value;
        int bucket = TrafficStats.Bucket(TimeSpan.FromMilliseconds(250));
        Assert.InRange(p100, TrafficStats.LowerBoundMicroseconds(bucket) / 1000.0, TrafficStats.LowerBoundMicroseconds(bucket + 1) / 1000.0);
        Assert.InRange(250, TrafficStats.LowerBoundMicroseconds(bucket) / 1000.0, TrafficStats.LowerBoundMicroseconds(bucket + 1) / 1000.0);
    }

    [Fact]
    public async Task ApiDashboard_CountsTraffic_AndDescribesHealthPluginsScriptsAndReloads()
    {
        await using var origin = new HttpOrigin(async (request, socket) =>
        {
            string status = request.Target == "/missing" ? "404 Not Found" : "200 OK";
            await socket.SendAllAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 {status}\r\nContent-Length: 2\r\n\r\nok"));
            return true;
        });
        using var scripts = new ScriptFolder();
        string script = scripts.Write("stamp.csx", "Response.Headers.Set(\"X-Stamp\", \"1\");\n");
        string config = scripts.Config(origin.Address, "response_analyzers = [\"stamp.csx\"]", extra: $$"""
            check = { kind = "tcp", interval = "1s" }

            [[backend]]
            name = "spare"
            servers = [{ name = "idle", address = "{{origin.Address}}" }]

            [[listener]]
            name = "side"
            bind = ["127.0.0.1:0"]
            supervisor = "tcp"
            backend = "spare"
            """).Replace("[global]\n", "[global]\nadmin = \"127.0.0.1:0\"\n", StringComparison.Ordinal);
        await using RunningProxy proxy = await RunningProxy.StartAsync(config);
        using (RawHttp client = await RawHttp.ConnectAsync(proxy))
        {
            foreach (string path in new[] { "/a", "/b", "/c", "/missing" })
            {
                await client.SendAsync($"GET {path} HTTP/1.1\r\nHost: a\r\n\r\n");
                await client.ReadResponseAsync();
            }
        }

        using HttpClient admin = new() { BaseAddress = new Uri($"http://{proxy.Host.AdminEndPoint}/"), Timeout = TimeSpan.FromSeconds(30) };
        await proxy.Host.Scripts.ReloadAsync(await WriteAsync(script, "Response.Headers.Set(\"X-Stamp\", \"2\");\n"));
        JsonElement doc = default;
        await Wait.ForAsync(async () =>
        {
            doc = await GetAsync(admin);
            return doc.GetProperty("backends")[0].GetProperty("servers")[0].GetProperty("last_check_ms_ago").ValueKind == JsonValueKind.Number
                && doc.GetProperty("listeners")[0].GetProperty("traffic").GetProperty("requests").GetInt64() == 4;
        }, "the first health check and the four streams");

        Assert.Equal(TrafficStats.BucketCount, doc.GetProperty("latency_bucket_lower_us").GetArrayLength());
        Assert.Equal(8, doc.GetProperty("latency_bucket_lower_us")[8].GetInt64());
        Assert.False(doc.GetProperty("token_configured").GetBoolean());
        Assert.True(doc.GetProperty("clock_ms").GetInt64() > 0);

        JsonElement listener = doc.GetProperty("listeners")[0];
        Assert.Equal("web", listener.GetProperty("name").GetString());
        Assert.Equal(1, listener.GetProperty("total_sessions").GetInt64());
        Assert.Equal(0, listener.GetProperty("autonomous").GetInt32());
        AssertTraffic(listener.GetProperty("traffic"), ok: 3, notFound: 1);

        JsonElement app = doc.GetProperty("backends")[0], server = app.GetProperty("servers")[0];
        Assert.Equal(("app", "tcp", 1000L), (app.GetProperty("name").GetString(), app.GetProperty("check").GetString(), app.GetProperty("check_interval_ms").GetInt64()));
        Assert.Equal(1, app.GetProperty("servers_usable").GetInt32());
        AssertTraffic(app.GetProperty("traffic"), ok: 3, notFound: 1);
        AssertTraffic(server.GetProperty("traffic"), ok: 3, notFound: 1);
        Assert.Equal(("origin", origin.Address, "up", "ready", 1), (server.GetProperty("name").GetString(), server.GetProperty("address").GetString(),
            server.GetProperty("health").GetString(), server.GetProperty("state").GetString(), server.GetProperty("weight").GetInt32()));
        Assert.InRange(server.GetProperty("last_check_ms_ago").GetInt64(), 0, 60_000);

        JsonElement spare = doc.GetProperty("backends")[1];
        Assert.Equal(JsonValueKind.Null, spare.GetProperty("check").ValueKind);
        Assert.Equal(JsonValueKind.Null, spare.GetProperty("servers")[0].GetProperty("last_check_ms_ago").ValueKind);
        Assert.Equal(0, spare.GetProperty("traffic").GetProperty("requests").GetInt64());

        JsonElement http = doc.GetProperty("plugins").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "PluginProxy.Http");
        Assert.Equal(["http"], http.GetProperty("supervisors").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(typeof(PluginProxy.Abstractions.IPlugin).Assembly.GetName().Version!.ToString(2), http.GetProperty("sdk").GetString());
        JsonElement stamp = Assert.Single(doc.GetProperty("scripts").EnumerateArray());
        Assert.Equal(("stamp.csx", 2, "rule"), (stamp.GetProperty("name").GetString(), stamp.GetProperty("version").GetInt32(), stamp.GetProperty("kind").GetString()));
        JsonElement reload = doc.GetProperty("reloads")[0];
        Assert.Equal(("script", "stamp.csx v2", true), (reload.GetProperty("kind").GetString(), reload.GetProperty("what").GetString(), reload.GetProperty("succeeded").GetBoolean()));
    }

    [Fact]
    public async Task DashboardPage_IsSelfContained_AndItsPolicyLetsOnlyItsOwnInlineStyleAndScriptRun()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.WithServers([("a", origin.Address, 1)], "admin = \"127.0.0.1:0\""));
        using HttpClient admin = new() { BaseAddress = new Uri($"http://{proxy.Host.AdminEndPoint}/"), Timeout = TimeSpan.FromSeconds(30) };

        using HttpResponseMessage page = await admin.GetAsync("/");
        string html = await page.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<noscript>", html);
        Assert.Contains("This dashboard needs JavaScript", html);
        // Nothing from elsewhere: no src attribute, no absolute URL, links only to this endpoint's own paths.
        Assert.DoesNotContain("src=", html);
        Assert.DoesNotMatch(AbsoluteUrl(), html);
        Assert.All(Href().Matches(html), m => Assert.Matches("^(/[a-z]|data:)", m.Groups[1].Value));

        string policy = string.Join(" ", page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'none'", policy);
        Assert.Contains("connect-src 'self'", policy);
        Assert.Contains("frame-ancestors 'none'", policy);
        Assert.Contains($"script-src '{Hash(Inline(html, "script"))}'", policy);
        Assert.Contains($"style-src '{Hash(Inline(html, "style"))}'", policy);
        Assert.Equal(1, Regex.Count(html, "<script"));
        Assert.Equal(1, Regex.Count(html, "<style"));
        Assert.Equal(["nosniff"], page.Headers.GetValues("X-Content-Type-Options"));
    }

    private static void AssertTraffic(JsonElement traffic, int ok, int notFound)
    {
        Assert.Equal(ok + notFound, traffic.GetProperty("requests").GetInt64());
        JsonElement statuses = traffic.GetProperty("statuses");
        Assert.Equal(["1xx", "2xx", "3xx", "4xx", "5xx", "other"], statuses.EnumerateObject().Select(p => p.Name));
        Assert.Equal(ok, statuses.GetProperty("2xx").GetInt64());
        Assert.Equal(notFound, statuses.GetProperty("4xx").GetInt64());
        Assert.Equal(ok + notFound, traffic.GetProperty("latency").EnumerateObject().Sum(b => b.Value.GetInt64()));
        Assert.All(traffic.GetProperty("latency").EnumerateObject(), b => Assert.InRange(int.Parse(b.Name), 0, TrafficStats.BucketCount - 1));
        Assert.Equal(4 * "GET /a HTTP/1.1\r\nHost: a\r\n\r\n".Length + "missing".Length - 1, traffic.GetProperty("bytes_in").GetInt64());
        Assert.True(traffic.GetProperty("bytes_out").GetInt64() > 0);
        Assert.True(traffic.GetProperty("p50_ms").GetDouble() > 0);
        Assert.True(traffic.GetProperty("p99_ms").GetDouble() >= traffic.GetProperty("p50_ms").GetDouble());
    }

    private static async Task<JsonElement> GetAsync(HttpClient admin)
    {
        using JsonDocument document = JsonDocument.Parse(await admin.GetStringAsync("/api/dashboard"));
        return document.RootElement.Clone();
    }

    private static async Task<string> WriteAsync(string path, string text)
    {
        await File.WriteAllTextAsync(path, text);
        return path;
    }

    private static string Inline(string html, string element)
    {
        int start = html.IndexOf($"<{element}>", StringComparison.Ordinal) + element.Length + 2;
        return html[start..html.IndexOf($"</{element}>", start, StringComparison.Ordinal)];
    }

    private static string Hash(string text) => "sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    [GeneratedRegex("https?://", RegexOptions.IgnoreCase)]
    private static partial Regex AbsoluteUrl();

    [GeneratedRegex("href=\"([^\"]*)\"")]
    private static partial Regex Href();
}
