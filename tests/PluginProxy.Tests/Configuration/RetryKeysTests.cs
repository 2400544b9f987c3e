using PluginProxy.Abstractions;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Tests.Configuration;

/// <summary><c>retry_on</c>, <c>redispatch</c>, <c>retry_budget</c>, <c>retry_budget_min</c> and <c>[backend.passive]</c>.</summary>
public class RetryKeysTests
{
    // Lines 1-9: the backend's keys start on line 10.
    private const string Head = """
        [[listener]]
        name = "web"
        bind = ["127.0.0.1:8080"]
        supervisor = "http"
        backend = "app"

        [[backend]]
        name = "app"
        servers = [{ name = "a", address = "127.0.0.1:9001" }]

        """;

    private static ProxyConfig Parse(string toml) => ConfigLoader.Parse(toml, "proxy.toml", "/etc/pluginproxy");

    private static string Error(string toml) => Assert.Single(Assert.Throws<ConfigException>(() => Parse(toml)).Errors).ToString();

    [Fact]
    public void RetryPolicy_DefaultsToConnectFailuresOnAnotherServer_WithABudget()
    {
        BackendConfig backend = Parse(Head).Backends[0];

        Assert.Same(RetryPolicy.Default, backend.RetryPolicy);
        Assert.Equal(RetryConditions.ConnectFailure, backend.RetryPolicy.Conditions);
        Assert.True(backend.RetryPolicy.Redispatch);
        Assert.Equal(0.2, backend.RetryPolicy.Budget);
        Assert.Equal(3, backend.RetryPolicy.BudgetMinimum);
        Assert.Null(backend.Passive);
    }

    [Fact]
    public void RetryKeys_AreRead()
    {
        BackendConfig backend = Parse(Head + """
            retry_on = ["connect-failure", "empty-response", "response-timeout", "502", "503", "504", "all-5xx"]
            redispatch = false
            retry_budget = 0.5
            retry_budget_min = 7
            """).Backends[0];

        RetryPolicy policy = backend.RetryPolicy;
        Assert.Equal(RetryConditions.ConnectFailure | RetryConditions.EmptyResponse | RetryConditions.ResponseTimeout | RetryConditions.Status502
            | RetryConditions.Status503 | RetryConditions.Status504 | RetryConditions.All5xx, policy.Conditions);
        Assert.False(policy.Redispatch);
        Assert.Equal(0.5, policy.Budget);
        Assert.Equal(7, policy.BudgetMinimum);
        Assert.Equal(7, policy.BudgetFor(10));
        Assert.Equal(50, policy.BudgetFor(100));
    }

    [Fact]
    public void RetryOn_Statuses()
    {
        var policy = new RetryPolicy(RetryConditions.Status503);
        Assert.True(policy.RetriesStatus(503));
        Assert.False(policy.RetriesStatus(502));
        Assert.False(policy.RetriesStatus(500));
        Assert.False(policy.Retries(RetryConditions.ConnectFailure));

        var all = new RetryPolicy(RetryConditions.All5xx);
        Assert.True(all.RetriesStatus(500));
        Assert.True(all.RetriesStatus(503));
        Assert.False(all.RetriesStatus(404));

        Assert.Equal(RetryConditions.None, Parse(Head + "retry_on = []").Backends[0].RetryPolicy.Conditions);
    }

    [Theory]
    [InlineData("retry_on = [\"503\", \"timeout\"]", "proxy.toml:10:20: `retry_on` \"timeout\" is unknown; use \"connect-failure\", \"empty-response\", \"response-timeout\", \"502\", \"503\", \"504\", \"all-5xx\"")]
    [InlineData("retry_on = [503]", "proxy.toml:10:13: `retry_on` must hold strings, not an integer")]
    [InlineData("retry_budget = 2", "proxy.toml:10:16: `retry_budget` must be from 0 to 1, not 2")]
    [InlineData("retry_budget_min = -1", "proxy.toml:10:20: `retry_budget_min` must be from 0 to 100000, not -1")]
    public void BadRetryValues_AreRefusedAtTheirValue(string line, string expected)
    {
        Assert.Equal(expected, Error(Head + line));
    }

    [Fact]
    public void Redispatch_MustBeABoolean()
    {
        string error = Error(Head + "redispatch = \"yes\"");
        Assert.StartsWith("proxy.toml:10:14: ", error);
        Assert.Contains("`redispatch`", error);
    }

    [Fact]
    public void PassiveTable_IsReadWithItsDefaults()
    {
        PassiveHealthConfig passive = Parse(Head + "\n[backend.passive]\n").Backends[0].Passive!;
        Assert.Equal(5, passive.ConsecutiveFailures);
        Assert.Equal(TimeSpan.FromSeconds(30), passive.Ejection);
        Assert.Equal(TimeSpan.FromSeconds(300), passive.MaxEjection);
        Assert.Equal(50, passive.MaxEjectedPercent);

        passive = Parse(Head + """
            passive = { consecutive_failures = 2, ejection = "1s", max_ejection = "10s", max_ejected_percent = 100 }
            """).Backends[0].Passive!;
        Assert.Equal(new PassiveHealthConfig { ConsecutiveFailures = 2, Ejection = TimeSpan.FromSeconds(1), MaxEjection = TimeSpan.FromSeconds(10), MaxEjectedPercent = 100 }, passive);
    }

    [Theory]
    [InlineData("consecutive_failures = 0", "proxy.toml:12:24: `consecutive_failures` must be from 1 to 1000, not 0")]
    [InlineData("ejection = \"soon\"", "proxy.toml:12:12: `ejection`: ")]
    [InlineData("max_ejection = \"1s\"", "proxy.toml:12:16: `max_ejection` (1s) must be at least `ejection` (30s)")]
    [InlineData("max_ejected_percent = 150", "proxy.toml:12:23: `max_ejected_percent` must be from 0 to 100, not 150")]
    [InlineData("consecutive_5xx = 3", "proxy.toml:12:1: ")]
    public void BadPassiveValues_AreRefusedAtTheirValue(string line, string expected)
    {
        Assert.StartsWith(expected, Error(Head + "\n[backend.passive]\n" + line));
    }
}
