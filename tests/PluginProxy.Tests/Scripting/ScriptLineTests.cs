using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Scripting;

/// <summary>A rule that throws is logged with the script line it threw from, whatever the statement looks like.</summary>
public class ScriptLineTests
{
    /// <summary>Runs one request through a rule made of two comment lines and <paramref name="body"/>; returns the 500's log line.</summary>
    private static async Task<(string Line, string Path)> FailAsync(string body, string? helper = null)
    {
        using var scripts = new ScriptFolder();
        string path = scripts.Write("parse.csx", (helper is null ? "// reads a number\n" : "#load \"helper.csx\"\n") + "\n" + body);
        if (helper is not null)
        {
            path = scripts.Write("helper.csx", helper);
        }

        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(scripts.Config(origin.Address, "request_analyzers = [\"parse.csx\"]"));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);
        await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");

        Assert.Equal(500, (await client.ReadResponseAsync()).Status);
        return (await proxy.AccessLog.WaitForAsync(l => l.Contains(" 500 "), "the failed stream"), path);
    }

    // Each threw from a call after a branch join (?? or ?:), which optimized code maps to no line: the log said "parse.csx:".
    [Theory]
    [InlineData("var count = int.Parse(Request.Headers[\"X-Count\"] ?? \"none\");\nRequest.Headers.Set(\"X-Seen\", count.ToString());\n")]
    [InlineData("int count = int.Parse(Request.Headers[\"X-Count\"] ?? \"none\");\nRequest.Headers.Set(\"X-Seen\", count.ToString());\n")]
    [InlineData("var count = int.Parse(Request.Path == \"/\" ? \"none\" : \"1\");\nRequest.Headers.Set(\"X-Seen\", count.ToString());\n")]
    [InlineData("Request.Headers.Set(\"X-Seen\", int.Parse(Request.Headers[\"X-Count\"] ?? \"none\").ToString());\n")]
    [InlineData("if (true) { var count = int.Parse(Request.Headers[\"X-Count\"] ?? \"none\"); Request.Headers.Set(\"X-Seen\", count.ToString()); }\n")]
    public async Task ExceptionInATopLevelStatement_IsLoggedWithItsLine(string body)
    {
        (string line, string path) = await FailAsync(body);

        Assert.True(line.Contains($"{path}:3: FormatException"), line);
    }

    [Fact]
    public async Task ExceptionInsideABlock_IsLoggedWithItsOwnLine()
    {
        (string line, string path) = await FailAsync("if (Request.Path == \"/\")\n{\n    Request.Headers.Set(\"X-A\", \"1\");\n    throw new InvalidOperationException(\"inner\");\n}\n");

        Assert.True(line.Contains($"{path}:6: InvalidOperationException: inner"), line);
    }

    [Fact]
    public async Task ScriptThatThrows_IsRecognisedByTheSupervisor_AsAnAnalyzerException_AndItsWordsAreTheDetail()
    {
        (string line, string path) = await FailAsync("throw new InvalidOperationException(\"inner\");\n");

        // The http supervisor recognises the SDK's AnalyzerException by type and keeps its message as it is, instead of
        // "<analyzer> threw <type>: <message>".
        Assert.EndsWith($" \"{path}:3: InvalidOperationException: inner\"", line);
    }

    [Fact]
    public async Task ExceptionInATopLevelStatementOfALoadedFile_NamesThatFile()
    {
        (string line, string helper) = await FailAsync("Request.Headers.Set(\"X-Seen\", \"1\");\n", helper: "// helper\nvar limit = long.Parse(Request.Headers[\"X-Limit\"] ?? \"many\");\n");

        Assert.True(line.Contains($"{helper}:2: FormatException"), line);
    }
}
