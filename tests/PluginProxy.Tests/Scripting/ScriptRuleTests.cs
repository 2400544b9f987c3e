using System.Net.Sockets;
using PluginProxy.Host;
using PluginProxy.Host.Configuration;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Scripting;

/// <summary>The globals API of rule scripts, action by action, and how scripts fail.</summary>
public class ScriptRuleTests
{
    private static async Task<RawResponse> SendAsync(RunningProxy proxy, string request)
    {
        using RawHttp client = await RawHttp.ConnectAsync(proxy);
        await client.SendAsync(request);
        return await client.ReadResponseAsync();
    }

    [Fact]
    public async Task RuleThatDoesNothing_LetsTheRequestThroughUnchanged()
    {
        using var scripts = new ScriptFolder();
        scripts.Write("noop.csx", "// nothing to do\nvar unused = Request.Path;\n");
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(scripts.Config(origin.Address, "request_analyzers = [\"noop.csx\"]"));
        string request = "GET /same?x=1 HTTP/1.1\r\nHost: a\r\nX-Test: 1\r\n\r\n";

        await SendAsync(proxy, request);

        Assert.Equal(request, System.Text.Encoding.ASCII.GetString((await origin.WaitForRequestAsync()).Raw));
    }

    [Fact]
    public async Task Headers_CanBeSetAddedAndRemoved_AndTheQueryRewritten()
    {
        using var scripts = new ScriptFolder();
        scripts.Write("headers.csx", """
            Request.Headers.Set("X-Set", "one");
            Request.Headers.Add("X-Added", "a");
            Request.Headers.Add("X-Added", "b");
            Request.Headers.Remove("X-Drop");
            Request.Query = Request.Query + "&via=script";
            Request.Headers["X-Host-Seen"] = Request.Host;
            Request.Headers["X-Method"] = Request.Method;
            Request.Headers["X-Client"] = Client.Address.ToString();
            """);
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(scripts.Config(origin.Address, "request_analyzers = [\"headers.csx\"]"));

        await SendAsync(proxy, "GET /p?q=1 HTTP/1.1\r\nHost: shop.test\r\nX-Drop: secret\r\nX-Set: zero\r\n\r\n");

        OriginRequest received = await origin.WaitForRequestAsync();
        Assert.Equal("/p?q=1&via=script", received.Target);
        Assert.Equal(["one"], received.Headers("X-Set"));
        Assert.Equal(["a", "b"], received.Headers("X-Added"));
        Assert.Null(received.Header("X-Drop"));
        Assert.Equal("shop.test", received.Header("X-Host-Seen"));
        Assert.Equal("GET", received.Header("X-Method"));
        Assert.Equal("127.0.0.1", received.Header("X-Client"));
    }

    [Fact]
    public async Task DenyRedirectAndRespond_AnswerWithoutAServer()
    {
        using var scripts = new ScriptFolder();
        scripts.Write("actions.csx", """
            switch (Request.Path)
            {
                case "/deny": Deny(); return;
                case "/deny-429": Deny(429, "slow down\n"); return;
                case "/redirect": Redirect("https://example.com/new", 301); return;
                case "/respond": Respond(200, "{\"ok\":true}", ("Content-Type", "application/json"), ("X-From", "script")); return;
            }
            """);
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(scripts.Config(origin.Address, "request_analyzers = [\"actions.csx\"]"));

        RawResponse denied = await SendAsync(proxy, "GET /deny HTTP/1.1\r\nHost: a\r\n\r\n");
        RawResponse limited = await SendAsync(proxy, "GET /deny-429 HTTP/1.1\r\nHost: a\r\n\r\n");
        RawResponse moved = await SendAsync(proxy, "GET /redirect HTTP/1.1\r\nHost: a\r\n\r\n");
        RawResponse answered = await SendAsync(proxy, "GET /respond HTTP/1.1\r\nHost: a\r\n\r\n");
        RawResponse passed = await SendAsync(proxy, "GET /other HTTP/1.1\r\nHost: a\r\n\r\n");

        Assert.Equal(403, denied.Status);
        Assert.Equal(429, limited.Status);
        Assert.Equal("slow down\n", limited.BodyText);
        Assert.Equal(301, moved.Status);
        Assert.Equal("https://example.com/new", moved.Header("Location"));
        Assert.Equal(200, answered.Status);
        Assert.Equal("application/json", answered.Header("Content-Type"));
        Assert.Equal("script", answered.Header("X-From"));
        Assert.Equal("{\"ok\":true}", answered.BodyText);
        Assert.Equal("GET /other body=0\n", passed.BodyText);
        Assert.Single(origin.Requests);
    }

    [Fact]
    public async Task Backend_AndVariables_ArePassedBetweenScripts_AndToTheResponseSide()
    {
        using var scripts = new ScriptFolder();
        scripts.Write("route.csx", "if (Request.Path.StartsWith(\"/beta\")) { Backend = \"beta\"; Vars[\"chosen\"] = \"beta\"; }");
        scripts.Write("tag.csx", "Response.Headers.Set(\"X-Chosen\", Vars.TryGetValue(\"chosen\", out var c) ? (string)c : \"default\");");
        await using HttpOrigin stable = HttpOrigin.Respond("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nstable");
        await using HttpOrigin beta = HttpOrigin.Respond("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbeta");
        string config = scripts.Config(stable.Address, "request_analyzers = [\"route.csx\"]\nresponse_analyzers = [\"tag.csx\"]\nuse_backends = [\"beta\"]",
            extra: $$"""
                [[backend]]
                name = "beta"
                servers = [{ name = "b", address = "{{beta.Address}}" }]
                """);
        await using RunningProxy proxy = await RunningProxy.StartAsync(config);

        RawResponse routed = await SendAsync(proxy, "GET /beta/x HTTP/1.1\r\nHost: a\r\n\r\n");
        RawResponse normal = await SendAsync(proxy, "GET /x HTTP/1.1\r\nHost: a\r\n\r\n");

        Assert.Equal("beta", routed.BodyText);
        Assert.Equal("beta", routed.Header("X-Chosen"));
        Assert.Equal("stable", normal.BodyText);
        Assert.Equal("default", normal.Header("X-Chosen"));
    }

    [Fact]
    public async Task ResponseRule_CanChangeTheStatus()
    {
        using var scripts = new ScriptFolder();
        scripts.Write("status.csx", "if (Response.Status == 404) { Response.Status = 410; Response.Reason = \"Gone\"; }");
        await using HttpOrigin origin = HttpOrigin.Respond("HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope");
        await using RunningProxy proxy = await RunningProxy.StartAsync(scripts.Config(origin.Address, "response_analyzers = [\"status.csx\"]"));

        RawResponse response = await SendAsync(proxy, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");

        Assert.Equal(410, response.Status);
        Assert.StartsWith("HTTP/1.1 410 Gone\r\n", response.Head);
        Assert.Equal("nope", response.BodyText);
    }

    /// <summary>The problems building a proxy with <paramref name="analyzers"/> reports (one line each).</summary>
    private static async Task<IReadOnlyList<string>> CompileErrorsAsync(ScriptFolder scripts, string analyzers)
    {
        string path = scripts.Write("proxy.toml", scripts.Config("127.0.0.1:9", $"request_analyzers = [{analyzers}]"));
        ProxyConfig config = ConfigLoader.Load(path);
        var error = await Assert.ThrowsAsync<StartupException>(() => ProxyHost.BuildAsync(config, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, new CapturedAccessLog()));
        return error.Problems;
    }

    [Fact]
    public async Task CompileErrors_AreReportedWithFileLineAndColumn()
    {
        using var scripts = new ScriptFolder();
        string path = scripts.Write("broken.csx", "// line 1\nvar x = 1;\n    Request.Headers.Set(\"X\", undefinedName);\nint y = \"text\";\n");

        IReadOnlyList<string> errors = await CompileErrorsAsync(scripts, "\"broken.csx\"");

        Assert.Contains(errors, e => e == $"{path}:3:30: error CS0103: The name 'undefinedName' does not exist in the current context");
        Assert.Contains(errors, e => e.StartsWith($"{path}:4:9: error CS0029:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CompileErrorsInALoadedFile_NameThatFile()
    {
        using var scripts = new ScriptFolder();
        string helper = scripts.Write("lib/helper.csx", "static string Greet() => 42;\n");
        scripts.Write("main.csx", "#load \"lib/helper.csx\"\nRequest.Headers.Set(\"X-Greeting\", Greet());\n");

        IReadOnlyList<string> errors = await CompileErrorsAsync(scripts, "\"main.csx\"");

        Assert.StartsWith($"{helper}:1:26: error CS0029:", Assert.Single(errors));
    }

    [Fact]
    public async Task SyntaxErrors_AndRefusedReferences_ArePositioned()
    {
        using var scripts = new ScriptFolder();
        string syntax = scripts.Write("syntax.csx", "if (true {\n");
        string reference = scripts.Write("ref.csx", "\n  #r \"System.Windows.Forms\"\nDeny();\n");

        IReadOnlyList<string> errors = await CompileErrorsAsync(scripts, "\"syntax.csx\", \"ref.csx\"");

        Assert.Contains(errors, e => e.StartsWith($"{syntax}:1:10: error CS1026:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith($"{reference}:2:3: error PP0001: #r \"System.Windows.Forms\" is refused", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CheckCommand_PrintsScriptErrors_AndExits1()
    {
        using var scripts = new ScriptFolder();
        string script = scripts.Write("bad.csx", "Deny(\"not a number\");\n");
        string config = scripts.Write("proxy.toml", scripts.Config("127.0.0.1:9", "request_analyzers = [\"bad.csx\"]"));

        var (code, output) = await ProxyProcess.RunAsync("check", "--config", config);

        Assert.Equal(1, code);
        Assert.Contains($"{script}:1:6: error CS1503:", output);
    }

    [Fact]
    public async Task ScriptThatThrows_FailsOnlyItsOwnStream_WithTheScriptLineInTheLog()
    {
        using var scripts = new ScriptFolder();
        string path = scripts.Write("throws.csx", "// a rule with a bug\nif (Request.Path == \"/boom\")\n{\n    throw new InvalidOperationException(\"kaboom\");\n}\n");
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(scripts.Config(origin.Address, "request_analyzers = [\"throws.csx\"]"));

        Task<RawResponse>[] concurrent = Enumerable.Range(0, 20)
            .Select(i => SendAsync(proxy, $"GET /{(i % 4 == 0 ? "boom" : "fine")} HTTP/1.1\r\nHost: a\r\n\r\n")).ToArray();
        RawResponse[] responses = await Task.WhenAll(concurrent);

        Assert.Equal(5, responses.Count(r => r.Status == 500));
        Assert.Equal(15, responses.Count(r => r.Status == 200));
        string line = await proxy.AccessLog.WaitForAsync(l => l.Contains(" 500 "), "the failed stream");
        Assert.Contains($"{path}:4: InvalidOperationException: kaboom", line);
        Assert.Contains("internal_error", line);
    }
}
