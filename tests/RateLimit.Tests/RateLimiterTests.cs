using PluginProxy.Abstractions.Options;
using System.Net;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.TestKit;

namespace RateLimit.Tests;

public class RateLimiterTests
{
    private static ListenerSettings Limit(long requests, string per = "1m") => WithRateLimit(new Dictionary<string, object?> { ["requests"] = requests, ["per"] = per });

    private static ListenerSettings WithRateLimit(Dictionary<string, object?> rateLimit) => TestSession.DefaultListener() with
    {
        Table = OptionTable.From(new Dictionary<string, object?> { ["options"] = new Dictionary<string, object?> { ["rate_limit"] = rateLimit } }),
    };

    private static (RateLimiter Analyzer, TestLogger<RateLimiter> Log) NewLimiter()
    {
        var log = new TestLogger<RateLimiter>();
        return (new RateLimiter(new ClientBuckets(), log), log);
    }

    [Fact]
    public async Task UnderTheLimit_RequestsGoToTheServer()
    {
        (RateLimiter limiter, _) = NewLimiter();
        var test = new HttpTest { RequestAnalyzers = [limiter], Listener = Limit(3), Server = new ScriptedServer(ServerReply.Ok("hello")) };

        HttpTestResult result = await test.RunAsync(HttpTest.Get("/a"), HttpTest.Get("/b"), HttpTest.Get("/c"));

        Assert.Equal([200, 200, 200], result.Responses.Select(r => r.Status));
        Assert.Equal("hello", result.Response.BodyText);
        Assert.Equal(["/a", "/b", "/c"], result.ServerRequests.Select(r => r.Target));
    }

    [Fact]
    public async Task OverTheLimit_Gets429WithRetryAfter_AndNeverReachesTheServer()
    {
        (RateLimiter limiter, TestLogger<RateLimiter> log) = NewLimiter();
        var test = new HttpTest { RequestAnalyzers = [limiter], Listener = Limit(2) };
        HttpTestResult result = await test.RunAsync(HttpTest.Get("/1"), HttpTest.Get("/2"), HttpTest.Get("/3"));
        Assert.Equal([200, 200, 429], result.Responses.Select(r => r.Status));
        Assert.Equal(["/1", "/2"], result.ServerRequests.Select(r => r.Target));

        HttpTestResponse refused = result.Responses[2];
        Assert.Equal("Too Many Requests\n", refused.BodyText);
        Assert.True(int.Parse(refused.Headers["Retry-After"]!) >= 1);

        // Logged once per run of refusals, not per request.
        await test.RunAsync(HttpTest.Get("/4"));
        LogLine line = Assert.Single(log.Lines);
        Assert.Equal(14001, line.EventId.Id);
        Assert.Equal(LogLevel.Information, line.Level);
    }

    [Fact]
    public async Task EachClientHasItsOwnBucket()
    {
        (RateLimiter limiter, _) = NewLimiter();
        HttpTest From(string address) => new() { RequestAnalyzers = [limiter], Listener = Limit(1), Client = new IPEndPoint(IPAddress.Parse(address), 40000) };

        HttpTestResult first = await From("192.0.2.7").RunAsync(HttpTest.Get(), HttpTest.Get());
        HttpTestResult other = await From("192.0.2.8").RunAsync(HttpTest.Get());

        Assert.Equal([200, 429], first.Responses.Select(r => r.Status));
        Assert.Equal(200, other.Response.Status);
    }

    [Fact]
    public void BadOptions_AreReportedWithTheirKey()
    {
        (RateLimiter limiter, _) = NewLimiter();
        ListenerSettings listener = WithRateLimit(new Dictionary<string, object?> { ["requests"] = -1L, ["per"] = "soon" });

        IReadOnlyList<OptionError> errors = limiter.CheckListener(listener);

        Assert.Equal(2, errors.Count);
        Assert.Contains("requests", errors[0].Message);
        Assert.Contains("per", errors[1].Message);
    }

    [Fact]
    public void AStoreTheConfigurationDoesNotDefine_IsReportedWithTheDefinedOnes()
    {
        (RateLimiter limiter, _) = NewLimiter();
        ListenerSettings listener = WithRateLimit(new Dictionary<string, object?> { ["requests"] = 10L, ["store"] = "shraed" }) with { StoreNames = ["shared", "edge"] };

        OptionError error = Assert.Single(limiter.CheckListener(listener));

        Assert.Equal("`options.rate_limit.store` names store \"shraed\", which is not defined; did you mean \"shared\"? (defined stores: \"shared\", \"edge\")", error.Message);
        Assert.Empty(limiter.CheckListener(listener with { StoreNames = ["shraed"] }));
    }

    [Fact]
    public void BurstWithAStore_IsReported()
    {
        (RateLimiter limiter, _) = NewLimiter();
        ListenerSettings listener = WithRateLimit(new Dictionary<string, object?> { ["requests"] = 10L, ["burst"] = 20L, ["store"] = "shared" }) with { StoreNames = ["shared"] };

        OptionError error = Assert.Single(limiter.CheckListener(listener));

        Assert.StartsWith("`options.rate_limit.burst` does not apply with `store`", error.Message);
    }
}
