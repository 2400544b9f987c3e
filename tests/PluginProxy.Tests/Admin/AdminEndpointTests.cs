using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Admin;

/// <summary>
/// The admin endpoint over real sockets: its read-only pages are open, and an action (POST /api/reload) needs the
/// admin token: refused with 403 when none is configured, 401 when it is missing or wrong, done when it is right.
/// </summary>
public partial class AdminEndpointTests
{
    private static string Config(string originAddress, string global = "", string listenerName = "web") => $$"""
        {{RunningProxy.GlobalSection("admin = \"127.0.0.1:0\"\n" + global)}}
        [[listener]]
        name = "{{listenerName}}"
        bind = ["127.0.0.1:0"]
        supervisor = "http"
        backend = "app"

        [[backend]]
        name = "app"
        servers = [{ name = "origin", address = "{{originAddress}}" }]
        """;

    private static HttpClient AdminClient(RunningProxy proxy) =>
        new() { BaseAddress = new Uri($"http://{proxy.Host.AdminEndPoint}/"), Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>A token file readable by its owner only, as the proxy requires.</summary>
    private static string WriteToken(string directory, string token)
    {
        string path = Path.Combine(directory, "admin.token");
        File.WriteAllText(path, token + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        return path;
    }

    [Fact]
    public async Task ReadOnlyPages_DashboardMetricsJsonAndHealth_DescribeTheRunningProxy()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origin.Address));
        using (RawHttp client = await RawHttp.ConnectAsync(proxy))
        {
            await client.SendAsync("GET /counted HTTP/1.1\r\nHost: a\r\n\r\n");
            Assert.Equal(200, (await client.ReadResponseAsync()).Status);
        }

        using HttpClient admin = AdminClient(proxy);
        using HttpResponseMessage page = await admin.GetAsync("/");
        string html = await page.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<title>PluginProxy dashboard</title>", html);
        // The page draws itself from /api/dashboard (DashboardJsonTests, DashboardBrowserTests).
        using (JsonDocument dashboard = JsonDocument.Parse(await admin.GetStringAsync("/api/dashboard")))
        {
            JsonElement shown = dashboard.RootElement.GetProperty("listeners")[0];
            Assert.Equal(("web", "http"), (shown.GetProperty("name").GetString(), shown.GetProperty("supervisor").GetString()));
            JsonElement origin0 = dashboard.RootElement.GetProperty("backends")[0].GetProperty("servers")[0];
            Assert.Equal(("origin", origin.Address), (origin0.GetProperty("name").GetString(), origin0.GetProperty("address").GetString()));
        }

        string json = await admin.GetStringAsync("/api/stats");
        using JsonDocument stats = JsonDocument.Parse(json);
        JsonElement listener = stats.RootElement.GetProperty("listeners")[0];
        Assert.Equal("web", listener.GetProperty("name").GetString());
        Assert.Equal(1, listener.GetProperty("total").GetInt64());
        JsonElement server = stats.RootElement.GetProperty("backends")[0].GetProperty("servers")[0];
        Assert.Equal(origin.Address, server.GetProperty("address").GetString());
        Assert.True(server.GetProperty("up").GetBoolean());

        Assert.Equal("ok\n", await admin.GetStringAsync("/health"));
        using HttpResponseMessage missing = await admin.GetAsync("/nope");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var head = new HttpRequestMessage(HttpMethod.Head, "/metrics");
        using HttpResponseMessage headResponse = await admin.SendAsync(head);
        Assert.Equal(HttpStatusCode.OK, headResponse.StatusCode);
        Assert.Empty(await headResponse.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Metrics_AreValidPrometheusText_WithEachSampleUnderItsDeclaredFamily()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        // A quote and a backslash in a name must be escaped in label values.
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origin.Address, listenerName: "we\\\"b\\\\1"));
        using (RawHttp client = await RawHttp.ConnectAsync(proxy))
        {
            await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
            Assert.Equal(200, (await client.ReadResponseAsync()).Status);
        }

        using HttpClient admin = AdminClient(proxy);
        const string Stream = "backend=\"app\",listener=\"we\\\"b\\\\1\",server=\"origin\"";
        const string Listener = "listener=\"we\\\"b\\\\1\"";
        const string Server = "backend=\"app\",server=\"origin\"";
        Dictionary<string, double> samples = [];
        // The stream is counted as it ends, which may be just after the client read its response; its duration and its
        // connect time are two recordings, and a scrape may fall between them, so the wait is for both.
        await Wait.ForAsync(async () =>
        {
            using HttpResponseMessage response = await admin.GetAsync("/metrics");
            Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("0.0.4", response.Content.Headers.ContentType?.Parameters.Single(p => p.Name == "version").Value);
            samples = PrometheusText.Parse(await response.Content.ReadAsStringAsync());
            return samples.GetValueOrDefault($"pluginproxy_request_duration_seconds_count{{{Stream}}}") == 1
                && samples.GetValueOrDefault($"pluginproxy_server_requests_total{{{Server},status_class=\"2xx\"}}") == 1
                && samples.GetValueOrDefault($"pluginproxy_server_connect_duration_seconds_count{{{Server}}}") == 1;
        }, "the finished stream in /metrics");

        Assert.Equal(1, samples["pluginproxy_listener_sessions_total{listener=\"we\\\"b\\\\1\"}"]);
        Assert.Equal(10000, samples["pluginproxy_listener_maxconn{listener=\"we\\\"b\\\\1\"}"]);
        Assert.Equal(1, samples["pluginproxy_server_up{backend=\"app\",server=\"origin\"}"]);
        Assert.Equal(1, samples["pluginproxy_server_connections_total{backend=\"app\",server=\"origin\"}"]);
        Assert.Equal(0, samples["pluginproxy_server_connect_failures_total{backend=\"app\",server=\"origin\"}"]);

        // What the stream counted as it ended: one 2xx request (by listener and by server), its duration, and the bytes each way.
        Assert.Equal(1, samples[$"pluginproxy_listener_requests_total{{{Listener},status_class=\"2xx\"}}"]);
        Assert.Equal(0, samples[$"pluginproxy_listener_requests_total{{{Listener},status_class=\"5xx\"}}"]);
        Assert.Equal(1, samples[$"pluginproxy_request_duration_seconds_bucket{{{Stream},le=\"+Inf\"}}"]);
        int requestBytes = "GET / HTTP/1.1\r\nHost: a\r\n\r\n".Length;
        Assert.Equal(requestBytes, samples[$"pluginproxy_listener_received_bytes_total{{{Listener}}}"]);
        Assert.Equal(requestBytes, samples[$"pluginproxy_server_received_bytes_total{{{Server}}}"]);
        Assert.True(samples[$"pluginproxy_listener_sent_bytes_total{{{Listener}}}"] > 0);
        Assert.Equal(samples[$"pluginproxy_listener_sent_bytes_total{{{Listener}}}"], samples[$"pluginproxy_server_sent_bytes_total{{{Server}}}"]);
        Assert.Equal(1, samples["pluginproxy_server_connect_duration_seconds_count{backend=\"app\",server=\"origin\"}"]);
    }

    [Fact]
    public async Task Reload_WithoutACredentialConfigured_IsRefusedWith403SayingHowToEnableIt()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origin.Address));
        var before = proxy.Host.Config;
        using HttpClient admin = AdminClient(proxy);

        using HttpResponseMessage response = await admin.PostAsync("/api/reload", null);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("Set `admin_token_file` in [global]", await response.Content.ReadAsStringAsync());
        Assert.Same(before, proxy.Host.Config);
        Assert.Contains(proxy.Logs.Lines, l => l.Message.StartsWith("Admin endpoint: POST /api/reload from 127.0.0.1:", StringComparison.Ordinal) && l.Message.EndsWith("refused with 403", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Reload_WithAMissingOrWrongToken_Is401WithABearerChallenge_AndNothingIsReloaded()
    {
        using var secrets = new TempDirectory();
        string token = WriteToken(secrets.Path, "0123456789abcdef0123456789abcdef");
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origin.Address, $"admin_token_file = \"{token}\""));
        var before = proxy.Host.Config;
        using HttpClient admin = AdminClient(proxy);

        using HttpResponseMessage missing = await admin.PostAsync("/api/reload", null);
        using var wrongRequest = new HttpRequestMessage(HttpMethod.Post, "/api/reload") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "0123456789abcdef0123456789abcdeX") } };
        using HttpResponseMessage wrong = await admin.SendAsync(wrongRequest);
        using var basicRequest = new HttpRequestMessage(HttpMethod.Post, "/api/reload") { Headers = { Authorization = new AuthenticationHeaderValue("Basic", "YWRtaW46YWRtaW4=") } };
        using HttpResponseMessage basic = await admin.SendAsync(basicRequest);

        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal("Bearer realm=\"pluginproxy admin\"", missing.Headers.WwwAuthenticate.ToString());
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal("Bearer realm=\"pluginproxy admin\", error=\"invalid_token\"", wrong.Headers.WwwAuthenticate.ToString());
        Assert.Equal(HttpStatusCode.Unauthorized, basic.StatusCode);
        Assert.Same(before, proxy.Host.Config);
    }

    [Fact]
    public async Task Reload_WithTheToken_AppliesTheChangedConfiguration()
    {
        using var secrets = new TempDirectory();
        const string Secret = "9f86d081884c7d659a2feaa0c55ad015";
        string token = WriteToken(secrets.Path, Secret);
        await using HttpOrigin origin = HttpOrigin.Echo();
        string config = Config(origin.Address, $"admin_token_file = \"{token}\"");
        await using RunningProxy proxy = await RunningProxy.StartAsync(config);
        File.WriteAllText(Path.Combine(proxy.Directory, "proxy.toml"), config.Replace("name = \"web\"", "name = \"renamed\""));
        using HttpClient admin = AdminClient(proxy);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/reload") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", Secret) } };

        using HttpResponseMessage response = await admin.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("configuration reloaded\n", await response.Content.ReadAsStringAsync());
        Assert.NotNull(proxy.Host.FindListener("renamed"));
        Assert.Null(proxy.Host.FindListener("web"));
    }

    [Fact]
    public async Task OtherActions_NeedTheCredentialToo_BeforeAnythingElseIsSaid()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origin.Address));
        using HttpClient admin = AdminClient(proxy);

        using HttpResponseMessage put = await admin.PutAsync("/api/servers/app/origin/weight", new StringContent("0"));
        using HttpResponseMessage delete = await admin.DeleteAsync("/api/stats");
        using HttpResponseMessage get = await admin.GetAsync("/api/reload");

        Assert.Equal(HttpStatusCode.Forbidden, put.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, delete.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        Assert.Equal(["POST"], get.Content.Headers.Allow);
    }
}
