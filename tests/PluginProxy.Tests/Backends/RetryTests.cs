using System.Net.Sockets;
using System.Text;
using PluginProxy.Host.Backends;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Backends;

/// <summary>
/// Retries with a policy, end to end: an http listener in front of two stub servers, "a" picked first (round robin),
/// "b" answering 200.
/// </summary>
public class RetryTests
{
    private static string Config(string a, string b, string backendExtra) => $$"""
        {{RunningProxy.GlobalSection()}}
        [[listener]]
        name = "web"
        bind = ["127.0.0.1:0"]
        supervisor = "http"
        backend = "app"

        [[backend]]
        name = "app"
        balance = "roundrobin"
        servers = [{ name = "a", address = "{{a}}" }, { name = "b", address = "{{b}}" }]
        {{backendExtra}}
        """;

    private static HttpOrigin Answering(int status) => HttpOrigin.Respond($"HTTP/1.1 {status} X\r\nContent-Length: 1\r\n\r\n{status / 100}");

    private static async Task<RawResponse> GetAsync(RunningProxy proxy, string request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    {
        using RawHttp client = await RawHttp.ConnectAsync(proxy);
        await client.SendAsync(request);
        return await client.ReadResponseAsync();
    }

    [Fact]
    public async Task A503_IsRetriedOnTheOtherServer_AndTheLogCountsTheRetry()
    {
        await using HttpOrigin a = Answering(503);
        await using HttpOrigin b = HttpOrigin.Named("b");
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(a.Address, b.Address, "retry_on = [\"503\"]"));

        RawResponse response = await GetAsync(proxy);

        Assert.Equal(200, response.Status);
        Assert.Equal("b", response.BodyText);
        Assert.Single(a.Requests);
        string line = await proxy.AccessLog.WaitForAsync(l => l.Contains(" app/b "), "the access log line");
        Assert.Contains("retries=1", line);
    }

    [Fact]
    public async Task A503_IsNotRetried_WhenRetryOnDoesNotSayIt_OrRetriesIsZero()
    {
        await using HttpOrigin a = Answering(503);
        await using HttpOrigin b = HttpOrigin.Named("b");
        await using (RunningProxy proxy = await RunningProxy.StartAsync(Config(a.Address, b.Address, "retry_on = [\"502\", \"504\"]")))
        {
            Assert.Equal(503, (await GetAsync(proxy)).Status);
        }

        await using (RunningProxy proxy = await RunningProxy.StartAsync(Config(a.Address, b.Address, "retry_on = [\"503\"]\nretries = 0")))
        {
            Assert.Equal(503, (await GetAsync(proxy)).Status);
        }

        Assert.Empty(b.Requests);
        Assert.Equal(2, a.Requests.Count);
    }

    [Fact]
    public async Task APost_IsNotRetried()
    {
        await using HttpOrigin a = Answering(503);
        await using HttpOrigin b = HttpOrigin.Named("b");
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(a.Address, b.Address, "retry_on = [\"503\", \"empty-response\"]"));

        RawResponse response = await GetAsync(proxy, "POST /order HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");

        Assert.Equal(503, response.Status);
        Assert.Empty(b.Requests);
        string line = await proxy.AccessLog.WaitForAsync(l => l.Contains(" app/a "), "the access log line");
        Assert.Contains("retries=0", line);
    }

    [Fact]
    public async Task AnEmptyResponse_IsRetried_WhenTheBackendSaysSo_Else502()
    {
        // a reads the request and closes without a byte of answer.
        await using var a = new HttpOrigin((_, _) => Task.FromResult(false));
        await using HttpOrigin b = HttpOrigin.Named("b");
        await using (RunningProxy proxy = await RunningProxy.StartAsync(Config(a.Address, b.Address, "retry_on = [\"empty-response\"]")))
        {
            RawResponse response = await GetAsync(proxy);
            Assert.Equal(200, response.Status);
            Assert.Equal("b", response.BodyText);
        }

        await using (RunningProxy proxy = await RunningProxy.StartAsync(Config(a.Address, b.Address, "retry_on = [\"connect-failure\"]")))
        {
            Assert.Equal(502, (await GetAsync(proxy)).Status);
        }
    }

    [Fact]
    public async Task AResponseTimeout_IsRetried_WhenTheBackendSaysSo_Else504()
    {
        var never = new TaskCompletionSource();
        // a reads the request and never answers (until the test ends).
        await using var a = new HttpOrigin(async (_, _) => { await never.Task; return false; });
        await using HttpOrigin b = HttpOrigin.Named("b");
        try
        {
            await using (RunningProxy proxy = await RunningProxy.StartAsync(Config(a.Address, b.Address, "retry_on = [\"response-timeout\"]\ntimeout_server = \"300ms\"")))
            {
                RawResponse response = await GetAsync(proxy);
                Assert.Equal(200, response.Status);
                Assert.Equal("b", response.BodyText);
                string line = await proxy.AccessLog.WaitForAsync(l => l.Contains(" app/b "), "the access log line");
                Assert.True(line.Contains("retries=1", StringComparison.Ordinal), $"no retries=1 in: {line}");
            }

            await using (RunningProxy proxy = await RunningProxy.StartAsync(Config(a.Address, b.Address, "timeout_server = \"300ms\"")))
            {
                Assert.Equal(504, (await GetAsync(proxy)).Status);
            }
        }
        finally
        {
            never.TrySetResult();
        }
    }

    [Fact]
    public async Task A503FromAnHttp2Server_IsRetriedOnTheOther()
    {
        await using H2HealthOrigin a = await H2HealthOrigin.StartAsync();
        await using H2HealthOrigin b = await H2HealthOrigin.StartAsync();
        a.Status = 503;
        string config = Config(a.Address, b.Address, "retry_on = [\"503\"]")
            .Replace($"address = \"{a.Address}\"", $"address = \"{a.Address}\", proto = \"h2\"")
            .Replace($"address = \"{b.Address}\"", $"address = \"{b.Address}\", proto = \"h2\"");
        await using RunningProxy proxy = await RunningProxy.StartAsync(config);

        RawResponse response = await GetAsync(proxy, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");

        Assert.Equal(200, response.Status);
        Assert.Single(a.Requests);
        Assert.Single(b.Requests);
        string line = await proxy.AccessLog.WaitForAsync(l => l.Contains(" app/b "), "the access log line");
        Assert.Contains("retries=1", line);
    }

    [Fact]
    public async Task RedispatchFalse_RetriesTheSameServer()
    {
        int calls = 0;
        // a fails the first request only.
        await using var a = new HttpOrigin(async (_, socket) =>
        {
            string answer = Interlocked.Increment(ref calls) == 1 ? "HTTP/1.1 503 X\r\nContent-Length: 0\r\n\r\n" : "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na";
            await socket.SendAllAsync(Encoding.ASCII.GetBytes(answer));
            return true;
        });
        await using HttpOrigin b = HttpOrigin.Named("b");
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(a.Address, b.Address, "retry_on = [\"503\"]\nredispatch = false"));

        RawResponse response = await GetAsync(proxy);

        Assert.Equal(200, response.Status);
        Assert.Equal("a", response.BodyText);
        Assert.Empty(b.Requests);
    }

    [Fact]
    public async Task TheRetryBudget_KeepsRetriesToAShareOfTheRequests()
    {
        const int Clients = 30;
        int arrived = 0;
        var firstWave = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var retriesGo = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Both servers fail. The first requests are answered together once all arrived (so they are all in flight when
        // the retries ask the budget); the retries are held until the test has seen every other client answered.
        Func<OriginRequest, Socket, Task<bool>> failing = async (_, socket) =>
        {
            int n = Interlocked.Increment(ref arrived);
            if (n == Clients)
            {
                firstWave.TrySetResult();
            }

            await (n <= Clients ? firstWave.Task : retriesGo.Task);
            await socket.SendAllAsync("HTTP/1.1 503 X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray());
            return false;
        };
        await using var a = new HttpOrigin(failing);
        await using var b = new HttpOrigin(failing);
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(a.Address, b.Address,
            "retry_on = [\"503\"]\nretries = 1\nretry_budget = 0.2\nretry_budget_min = 3"));
        int answered = 0;
        Task<RawResponse>[] clients = Enumerable.Range(0, Clients).Select(async _ =>
        {
            RawResponse response = await GetAsync(proxy);
            Interlocked.Increment(ref answered);
            return response;
        }).ToArray();

        try
        {
            // Every client is either answered (its retry refused) or has its retry waiting at a server.
            await Wait.UntilAsync(() => Volatile.Read(ref answered) + Math.Max(0, Volatile.Read(ref arrived) - Clients) >= Clients,
                "every client answered or retrying");
        }
        finally
        {
            retriesGo.TrySetResult();
        }

        RawResponse[] responses = await Task.WhenAll(clients);
        Assert.All(responses, r => Assert.Equal(503, r.Status));
        int retries = arrived - Clients;
        Assert.InRange(retries, 1, (int)(Clients * 0.2) + 3);
        Assert.True(proxy.Host.Backends.Backends[0].RetryBudget.Refused >= Clients - retries, "the budget refused the others");
        Assert.Equal(0, proxy.Host.Backends.Backends[0].RetryBudget.Active);
        await Wait.UntilAsync(() => proxy.AccessLog.Lines.Count == Clients, "every access-log line");
        Assert.Equal(retries, proxy.AccessLog.Lines.Count(l => l.Contains("retries=1")));
    }
}
