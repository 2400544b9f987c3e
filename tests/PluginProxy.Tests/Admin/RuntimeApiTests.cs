using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using PluginProxy.Host.Backends;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Admin;

/// <summary>
/// The runtime API over real sockets: servers drained, put in maintenance, reweighted, added and removed without a
/// reload, with traffic going where the change says; changes need the admin token, survive a configuration reload,
/// and with <c>server_state_file</c> a restart.
/// </summary>
public class RuntimeApiTests
{
    private const string Token = "0123456789abcdef0123456789abcdef";

    private static string Config(TempDirectory directory, IEnumerable<(string Name, string Address, int Weight)> servers, string backendExtra = "", string global = "")
    {
        string tokenFile = directory.Write("admin.token", Token + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(tokenFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return HttpConfig.WithServers(servers, $"admin = \"127.0.0.1:0\"\nadmin_token_file = \"{tokenFile}\"\n{global}", backendExtra);
    }

    private static HttpClient Admin(RunningProxy proxy, string? token = Token)
    {
        var client = new HttpClient { BaseAddress = new Uri($"http://{proxy.Host.AdminEndPoint}/"), Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpClient admin, HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = json is null ? null : new StringContent(json, Encoding.UTF8, "application/json") };
        using HttpResponseMessage response = await admin.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        using JsonDocument document = JsonDocument.Parse(text);
        return (response.StatusCode, document.RootElement.Clone());
    }

    /// <summary>Sends <paramref name="count"/> requests, each on a new client connection; returns the bodies (the servers' names).</summary>
    private static async Task<List<string>> ServedByAsync(RunningProxy proxy, int count)
    {
        var bodies = new List<string>();
        for (int i = 0; i < count; i++)
        {
            using RawHttp client = await RawHttp.ConnectAsync(proxy);
            await client.SendAsync($"GET /{i} HTTP/1.1\r\nHost: a\r\n\r\n");
            RawResponse response = await client.ReadResponseAsync();
            bodies.Add(response.Status == 200 ? response.BodyText : $"status {response.Status}");
        }

        return bodies;
    }

    private static Server ServerOf(RunningProxy proxy, string name) => proxy.Host.Backends.Backends.Single(b => b.Name == "app").ServerStates.Single(s => s.Name == name);

    [Fact]
    public async Task Drain_TakesNoNewStreams_WhileTheOneItCarriesFinishes_AndReadyBringsItBack()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var slow = new HttpOrigin(async (_, socket) =>
        {
            await release.Task;
            await socket.SendAllAsync("HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nslow"u8.ToArray());
            return false;
        });
        await using HttpOrigin b = HttpOrigin.Named("b");
        using var directory = new TempDirectory();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(directory, [("a", slow.Address, 1), ("b", b.Address, 1)]));
        using HttpClient admin = Admin(proxy);

        // b drained first, so that the slow request can only go to a.
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(admin, HttpMethod.Patch, "/api/backends/app/servers/b", """{"state": "drain"}""")).Status);
        using RawHttp inFlight = await RawHttp.ConnectAsync(proxy);
        await inFlight.SendAsync("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
        await slow.WaitForRequestAsync();

        (HttpStatusCode status, JsonElement server) = await SendAsync(admin, HttpMethod.Patch, "/api/backends/app/servers/a", """{"state": "drain"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("drain", server.GetProperty("state").GetString());
        Assert.Equal(1, server.GetProperty("streams").GetInt32());
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(admin, HttpMethod.Patch, "/api/backends/app/servers/b", """{"state": "ready"}""")).Status);

        Assert.Equal(Enumerable.Repeat("b", 6), await ServedByAsync(proxy, 6));
        release.SetResult();
        RawResponse finished = await inFlight.ReadResponseAsync();
        Assert.Equal(200, finished.Status);
        Assert.Equal("slow", finished.BodyText);
        Assert.Single(slow.Requests);

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(admin, HttpMethod.Post, "/api/backends/app/servers/a", """{"state": "ready"}""")).Status);
        List<string> after = await ServedByAsync(proxy, 4);
        Assert.Equal(2, after.Count(x => x == "b"));
        Assert.Equal(2, slow.Requests.Count - 1);
        Assert.Contains(proxy.Logs.Lines, l => l.Message.StartsWith("Admin endpoint: 127.0.0.1:", StringComparison.Ordinal) && l.Message.EndsWith("changed server app/a: state drain (was ready)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Weight_SetAtRunTime_ChangesTheShare_AndZeroTakesNoNewStreams()
    {
        await using HttpOrigin a = HttpOrigin.Named("a");
        await using HttpOrigin b = HttpOrigin.Named("b");
        using var directory = new TempDirectory();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(directory, [("a", a.Address, 1), ("b", b.Address, 1)]));
        using HttpClient admin = Admin(proxy);

        (HttpStatusCode status, JsonElement server) = await SendAsync(admin, HttpMethod.Patch, "/api/backends/app/servers/a", """{"weight": 3}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(3, server.GetProperty("weight").GetInt32());
        Assert.Equal(1, server.GetProperty("configured_weight").GetInt32());
        List<string> served = await ServedByAsync(proxy, 16);
        Assert.Equal((12, 4), (served.Count(x => x == "a"), served.Count(x => x == "b")));

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(admin, HttpMethod.Patch, "/api/backends/app/servers/a", """{"weight": 0}""")).Status);
        Assert.Equal(Enumerable.Repeat("b", 5), await ServedByAsync(proxy, 5));
    }

    [Fact]
    public async Task AddAndRemove_AServerAtRunTime_StartsInMaintUntilReady_AndOnlyAServerInMaintMayBeRemoved()
    {
        await using HttpOrigin a = HttpOrigin.Named("a");
        await using HttpOrigin c = HttpOrigin.Named("c");
        using var directory = new TempDirectory();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(directory, [("a", a.Address, 1)]));
        using HttpClient admin = Admin(proxy);

        (HttpStatusCode status, JsonElement added) = await SendAsync(admin, HttpMethod.Post, "/api/backends/app/servers", $$"""{"name": "c", "address": "{{c.Address}}"}""");
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("maint", added.GetProperty("state").GetString());
        Assert.True(added.GetProperty("added_at_run_time").GetBoolean());
        Assert.Equal(Enumerable.Repeat("a", 3), await ServedByAsync(proxy, 3));

        Assert.Equal(HttpStatusCode.Conflict, (await SendAsync(admin, HttpMethod.Post, "/api/backends/app/servers", $$"""{"name": "c", "address": "{{c.Address}}"}""")).Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(admin, HttpMethod.Patch, "/api/backends/app/servers/c", """{"state": "ready"}""")).Status);
        List<string> served = await ServedByAsync(proxy, 4);
        Assert.Equal((2, 2), (served.Count(x => x == "a"), served.Count(x => x == "c")));

        (status, JsonElement refused) = await SendAsync(admin, HttpMethod.Delete, "/api/backends/app/servers/c");
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains("set it to maint first", refused.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(admin, HttpMethod.Patch, "/api/backends/app/servers/c", """{"state": "maint"}""")).Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(admin, HttpMethod.Delete, "/api/backends/app/servers/c")).Status);

        (status, JsonElement gone) = await SendAsync(admin, HttpMethod.Get, "/api/backends/app/servers/c");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("backend \"app\" has no server named \"c\"; its servers are: \"a\"", gone.GetProperty("error").GetString());
        Assert.Equal(Enumerable.Repeat("a", 3), await ServedByAsync(proxy, 3));
    }

    [Fact]
    public async Task Maint_StopsTheServersHealthChecks_WhileTheOtherServersGoOn()
    {
        // Health checks are the only requests these origins get.
        await using HttpOrigin a = HttpOrigin.Named("a");
        await using HttpOrigin b = HttpOrigin.Named("b");
        int ChecksOf(HttpOrigin origin) => origin.Requests.Count;
        using var directory = new TempDirectory();
        string check = "check = { kind = \"http\", path = \"/health\", interval = \"20ms\", timeout = \"5s\", rise = 1, fall = 1 }";
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(directory, [("a", a.Address, 1), ("b", b.Address, 1)], check));
        using HttpClient admin = Admin(proxy);
        await Wait.UntilAsync(() => ChecksOf(a) >= 2, "server a checked");

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(admin, HttpMethod.Patch, "/api/backends/app/servers/a", """{"state": "maint"}""")).Status);
        // A check that was running when the state changed may still land: count from the one after.
        int bAtMaint = ChecksOf(b);
        await Wait.UntilAsync(() => ChecksOf(b) >= bAtMaint + 2, "server b checked twice more");
        int aAfter = ChecksOf(a);
        await Wait.UntilAsync(() => ChecksOf(b) >= bAtMaint + 12, "server b checked ten times more");

        Assert.Equal(aAfter, ChecksOf(a));
        Assert.Equal("maint", (await SendAsync(admin, HttpMethod.Get, "/api/backends/app/servers/a")).Body.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Changes_NeedTheAdminToken_AndBadRequestsGetASpecificError()
    {
        await using HttpOrigin a = HttpOrigin.Named("a");
        using var directory = new TempDirectory();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(directory, [("a", a.Address, 1)]));
        using HttpClient anonymous = Admin(proxy, token: null);
        using HttpClient admin = Admin(proxy);

        using (var response = await anonymous.PatchAsync("/api/backends/app/servers/a", new StringContent("""{"state": "drain"}""")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        Assert.Equal(ServerAdminState.Ready, ServerOf(proxy, "a").AdminState);
        (HttpStatusCode status, JsonElement listing) = await SendAsync(anonymous, HttpMethod.Get, "/api/backends");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ready", listing.GetProperty("backends")[0].GetProperty("servers")[0].GetProperty("state").GetString());

        foreach ((string body, string error) in new[]
        {
            ("""{"state": "off"}""", "\"state\" must be \"ready\", \"drain\" or \"maint\", not \"off\""),
            ("""{"weight": 300}""", "\"weight\" must be an integer from 0 to 256, not 300"),
            ("""{"wieght": 3}""", "unknown key \"wieght\"; the keys are: \"state\", \"weight\""),
            ("""{}""", "say what to change: {\"state\": \"ready\" | \"drain\" | \"maint\"} and/or {\"weight\": 0-256}"),
            ("state=drain", "the body is not JSON: "),
        })
        {
            (status, JsonElement answer) = await SendAsync(admin, HttpMethod.Patch, "/api/backends/app/servers/a", body);
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.StartsWith(error, answer.GetProperty("error").GetString());
        }

        (status, JsonElement missing) = await SendAsync(admin, HttpMethod.Patch, "/api/backends/api/servers/a", """{"state": "drain"}""");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("no backend named \"api\"; the backends are: \"app\"", missing.GetProperty("error").GetString());
        (status, _) = await SendAsync(admin, HttpMethod.Post, "/api/backends/app/servers", """{"name": "d", "address": "nowhere"}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(ServerAdminState.Ready, ServerOf(proxy, "a").AdminState);
        Assert.Equal(Enumerable.Repeat("a", 2), await ServedByAsync(proxy, 2));
    }

    [Fact]
    public async Task AReload_KeepsAdminStateAndRunTimeWeight_UnlessTheFileChangedThatWeight()
    {
        await using HttpOrigin a = HttpOrigin.Named("a");
        await using HttpOrigin b = HttpOrigin.Named("b");
        using var directory = new TempDirectory();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(directory, [("a", a.Address, 1), ("b", b.Address, 1)]));
        using HttpClient admin = Admin(proxy);
        await SendAsync(admin, HttpMethod.Patch, "/api/backends/app/servers/a", """{"state": "drain", "weight": 4}""");
        await SendAsync(admin, HttpMethod.Patch, "/api/backends/app/servers/b", """{"weight": 5}""");

        // The same file: both servers keep what the API set.
        Assert.Empty(await proxy.Host.ReloadConfigurationAsync());
        Assert.Equal((ServerAdminState.Drain, 4), (ServerOf(proxy, "a").AdminState, ServerOf(proxy, "a").Weight));
        Assert.Equal(5, ServerOf(proxy, "b").Weight);
        Assert.Equal(Enumerable.Repeat("b", 3), await ServedByAsync(proxy, 3));

        // The file now gives b weight 2: the newer decision wins for b; a's run-time weight stays.
        File.WriteAllText(proxy.Host.Config.FilePath, Config(directory, [("a", a.Address, 1), ("b", b.Address, 2)]));
        Assert.Empty(await proxy.Host.ReloadConfigurationAsync());
        Assert.Equal((ServerAdminState.Drain, 4), (ServerOf(proxy, "a").AdminState, ServerOf(proxy, "a").Weight));
        Assert.Equal((ServerAdminState.Ready, 2), (ServerOf(proxy, "b").AdminState, ServerOf(proxy, "b").Weight));
    }

    [Fact]
    public async Task ServerStateFile_KeepsAdminStateAndWeight_AcrossARestart()
    {
        await using HttpOrigin a = HttpOrigin.Named("a");
        await using HttpOrigin b = HttpOrigin.Named("b");
        using var directory = new TempDirectory();
        string stateFile = Path.Combine(directory.Path, "server-state.json");
        string config = Config(directory, [("a", a.Address, 1), ("b", b.Address, 1)], global: $"server_state_file = \"{stateFile}\"");
        await using (RunningProxy first = await RunningProxy.StartAsync(config))
        {
            using HttpClient admin = Admin(first);
            await SendAsync(admin, HttpMethod.Patch, "/api/backends/app/servers/a", """{"state": "maint"}""");
            await SendAsync(admin, HttpMethod.Patch, "/api/backends/app/servers/b", """{"weight": 7}""");
        }

        await using RunningProxy second = await RunningProxy.StartAsync(config);
        Assert.Equal(ServerAdminState.Maint, ServerOf(second, "a").AdminState);
        Assert.Equal((ServerAdminState.Ready, 7), (ServerOf(second, "b").AdminState, ServerOf(second, "b").Weight));
        Assert.Equal(Enumerable.Repeat("b", 3), await ServedByAsync(second, 3));
        Assert.Contains(second.Logs.Lines, l => l.Message == $"Server state restored from {stateFile}: 2 server(s) keep the admin state or weight set at run time");
    }
}
