using PluginProxy.Abstractions;
using PluginProxy.Host.Configuration;
using PluginProxy.Host.Rules;
using PluginProxy.TestKit;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Rules;

/// <summary>
/// The stick-table counter condition, through the SDK's interfaces only: a fake IStickTables stands in for the tables,
/// and the compiled rules run in the real http supervisor (in memory).
/// </summary>
public class StickCounterRuleTests
{
    /// <summary>The request rules of a listener whose rules are <paramref name="rules"/>, compiled by the configuration loader.</summary>
    private static HttpRuleList CompileRequestRules(string rules)
    {
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", $$"""
            [[listener]]
            name = "web"
            bind = ["127.0.0.1:0"]
            supervisor = "http"
            backend = "app"
            {{rules}}

            [[backend]]
            name = "app"
            servers = [{ name = "a", address = "127.0.0.1:9" }]
            """);
        return ConfigLoader.Load(path).Listeners[0].RequestRules!;
    }

    private static readonly string Limit = """
        [[listener.http_request]]
        if = { table = { name = "clients", counter = "http_req_rate", gt = 100 } }
        deny = 429

        [[listener.http_request]]
        if = { table = [{ name = "clients", counter = "conn_cur", ge = 3 }, { name = "clients", counter = "http_err_cnt", le = 0 }] }
        set_header = { name = "X-Busy", value = "yes" }
        """;

    [Fact]
    public async Task Counter_OverTheThreshold_Denies_AndUnderIt_LetsThrough()
    {
        var table = new FakeStickTable("clients");
        FakeStickEntry client = table.Add(TestSession.ClientAddress.Address.ToString());
        var rules = new HttpRuleSet(CompileRequestRules(Limit), "web", new FakeStickTables(table), new TestLogger());

        client.RequestRate = 101;
        HttpTestResult over = await HttpTest.RunAsync([rules], HttpTest.Get("/"));
        client.RequestRate = 100;
        client.Connections = 3;
        HttpTestResult under = await HttpTest.RunAsync([rules], HttpTest.Get("/"));
        client.Errors = 1;
        HttpTestResult withErrors = await HttpTest.RunAsync([rules], HttpTest.Get("/"));

        Assert.Equal(429, over.Response.Status);
        Assert.Null(over.ServerRequest);
        Assert.Equal(200, under.Response.Status);
        Assert.Equal("yes", under.ServerRequest!.Headers["X-Busy"]);
        Assert.False(withErrors.ServerRequest!.Headers.Contains("X-Busy"));
        Assert.Equal(0, table.Tracked);
    }

    [Fact]
    public async Task AClientWithNoEntry_CountsAsZero()
    {
        var table = new FakeStickTable("clients");
        var rules = new HttpRuleSet(CompileRequestRules("""
            [[listener.http_request]]
            if = { table = { name = "clients", counter = "http_req_cnt", lt = 1 } }
            set_header = { name = "X-New-Client", value = "1" }
            """), "web", new FakeStickTables(table), new TestLogger());

        HttpTestResult result = await HttpTest.RunAsync([rules], HttpTest.Get("/"));

        Assert.Equal("1", result.ServerRequest!.Headers["X-New-Client"]);
        Assert.Equal(0, table.Count);
    }

    [Fact]
    public async Task AMissingTable_MakesTheConditionFalse_AndIsLoggedOnce()
    {
        var log = new TestLogger();
        var rules = new HttpRuleSet(CompileRequestRules(Limit), "web", new FakeStickTables(), log);

        HttpTestResult first = await HttpTest.RunAsync([rules], HttpTest.Get("/"));
        HttpTestResult second = await HttpTest.RunAsync([rules], HttpTest.Get("/"));

        Assert.Equal(200, first.Response.Status);
        Assert.Equal(200, second.Response.Status);
        LogLine line = Assert.Single(log.Lines);
        Assert.Equal(4901, line.EventId.Id);
        Assert.Contains("stick table \"clients\" does not exist", line.Message);
    }

    [Fact]
    public async Task NoTablesAtAll_MakesTheConditionFalse()
    {
        var rules = new HttpRuleSet(CompileRequestRules(Limit), "web", null, new TestLogger());

        HttpTestResult result = await HttpTest.RunAsync([rules], HttpTest.Get("/"));

        Assert.Equal(200, result.Response.Status);
    }
}
