using PluginProxy.Host.Backends;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Backends;

/// <summary>
/// An http listener in front of a backend of several servers, end to end. Each origin answers with its name and closes
/// its connection, so every request makes one new server connection and connection reuse plays no part.
/// </summary>
public class SeveralServersTests
{
    private static string Config(IEnumerable<(string Name, string Address, int Weight)> servers, string backendExtra = "") => $$"""
        {{RunningProxy.GlobalSection()}}
        [[listener]]
        name = "web"
        bind = ["127.0.0.1:0"]
        supervisor = "http"
        backend = "app"

        [[backend]]
        name = "app"
        balance = "roundrobin"
        servers = [{{string.Join(", ", servers.Select(s => $"{{ name = \"{s.Name}\", address = \"{s.Address}\", weight = {s.Weight} }}"))}}]
        {{backendExtra}}
        """;

    /// <summary>Sends <paramref name="count"/> requests, each on a new client connection, and returns each answer's status and body.</summary>
    private static async Task<List<(int Status, string Body)>> SendAsync(RunningProxy proxy, int count, string path = "/")
    {
        var answers = new List<(int, string)>();
        for (int i = 0; i < count; i++)
        {
            using RawHttp client = await RawHttp.ConnectAsync(proxy);
            await client.SendAsync($"GET {path}{i} HTTP/1.1\r\nHost: a\r\n\r\n");
            RawResponse response = await client.ReadResponseAsync();
            answers.Add((response.Status, response.BodyText));
        }

        return answers;
    }

    [Theory]
    [InlineData(new[] { 1, 1 })]
    [InlineData(new[] { 3, 1 })]
    [InlineData(new[] { 2, 1, 1 })]
    public async Task RoundRobin_SpreadsRequestsOverTheServers_InProportionToTheirWeights(int[] weights)
    {
        var origins = weights.Select((_, i) => HttpOrigin.Named($"s{i + 1}")).ToList();
        try
        {
            await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origins.Select((o, i) => ($"s{i + 1}", o.Address, weights[i]))));

            // Four full rounds: smooth weighted round robin gives each server exactly its weight per round.
            List<(int Status, string Body)> answers = await SendAsync(proxy, 4 * weights.Sum());

            Assert.All(answers, a => Assert.Equal(200, a.Status));
            Assert.Equal(
                weights.Select((w, i) => $"s{i + 1}={4 * w}"),
                weights.Select((_, i) => $"s{i + 1}={answers.Count(a => a.Body == $"s{i + 1}")}"));
        }
        finally
        {
            foreach (HttpOrigin origin in origins)
            {
                await origin.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task ServerThatHealthChecksTookDown_IsSkipped()
    {
        await using HttpOrigin a = HttpOrigin.Named("a");
        await using HttpOrigin b = HttpOrigin.Named("b");
        // c serves requests, but its health check fails: only the check's verdict can keep traffic away from it.
        await using var c = new HttpOrigin(async (request, socket) =>
        {
            string answer = request.Target == "/health"
                ? "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                : "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\nc";
            await socket.SendAllAsync(System.Text.Encoding.ASCII.GetBytes(answer));
            return false;
        });
        string check = "check = { kind = \"http\", path = \"/health\", interval = \"50ms\", timeout = \"10s\", rise = 1, fall = 1 }";
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config([("a", a.Address, 1), ("b", b.Address, 1), ("c", c.Address, 1)], check));
        Server down = proxy.Host.Backends.Backends[0].ServerStates[2];
        await Wait.UntilAsync(() => !down.IsUp, "server c to be marked down");

        List<(int Status, string Body)> answers = await SendAsync(proxy, 12, "/request-");

        Assert.All(answers, answer => Assert.Equal(200, answer.Status));
        Assert.All(answers, answer => Assert.Contains(answer.Body, new[] { "a", "b" }));
        Assert.DoesNotContain(c.Requests, r => r.Target.StartsWith("/request-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ServerThatRefusesConnections_IsRetriedOnAnother_AndTheClientNeverSeesAnError()
    {
        using var refusing = new DeadPort();
        await using HttpOrigin b = HttpOrigin.Named("b");
        await using HttpOrigin c = HttpOrigin.Named("c");
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config([("a", refusing.Address, 1), ("b", b.Address, 1), ("c", c.Address, 1)]));
        Server refused = proxy.Host.Backends.Backends[0].ServerStates[0];

        List<(int Status, string Body)> answers = await SendAsync(proxy, 12, "/request-");

        Assert.All(answers, answer => Assert.Equal(200, answer.Status));
        Assert.All(answers, answer => Assert.Contains(answer.Body, new[] { "b", "c" }));
        // Server a was picked and refused, and those requests were sent on to another server: the access log says so.
        Assert.True(refused.FailedConnections > 0, "server a was never tried");
        await proxy.AccessLog.WaitForAsync(l => l.Contains(" app/b ") || l.Contains(" app/c "), "the access log");
        await Wait.UntilAsync(() => proxy.AccessLog.Lines.Count(l => l.Contains("retries=1")) == refused.FailedConnections,
            $"one access-log line with retries=1 per refused connection ({refused.FailedConnections})");
        Assert.DoesNotContain(proxy.AccessLog.Lines, l => l.Contains(" app/a "));
    }
}
