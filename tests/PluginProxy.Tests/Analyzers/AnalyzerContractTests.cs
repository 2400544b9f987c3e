using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Analyzers;

/// <summary>
/// The analyzer contract, run the same way under every supervisor that runs analyzers (tcp and http): the channel is
/// held while analyzers run and nothing reaches a server before they release it; an analyzer's own Timeout bounds the
/// hold; Bypass skips an analyzer for the rest of the stream; Stop answers; a throw ends only its own stream.
/// </summary>
public sealed class AnalyzerContractTests
{
    public static TheoryData<string> Supervisors => new() { "tcp", "http" };

    private const string HttpHead = "POST /contract HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n";

    /// <summary>What the client sends first: a request that does not yet contain "GO" (http: the head, the body follows).</summary>
    private static string FirstPart(string supervisor) => supervisor == "http" ? HttpHead : "first part, ";

    private static string Config(string supervisor, string origin, string analyzers, string extra = "") => supervisor == "http"
        ? HttpConfig.For(origin, $"request_analyzers = [{analyzers}]\n{extra}")
        : TcpConfig.For([origin], listenerExtra: $"request_analyzers = [{analyzers}]\n{extra}").WithTestPlugins();

    [Theory]
    [MemberData(nameof(Supervisors))]
    public async Task HeldChannel_ReachesNoServer_UntilTheAnalyzersReleaseIt(string supervisor)
    {
        // An origin that accepts only when the test asks: a connection the proxy makes waits in the accept queue (Poll).
        using var origin = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        origin.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        origin.Listen(8);
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(supervisor, $"127.0.0.1:{((IPEndPoint)origin.LocalEndPoint!).Port}", "\"contract_hold_until_go\""));
        using Socket client = await proxy.ConnectAsync();

        string first = FirstPart(supervisor);
        await client.SendAllAsync(Encoding.ASCII.GetBytes(first));
        string hold = await proxy.Logs.WaitForAsync("PluginProxy.Tests.Probe.HoldUntilGo", l => l.Contains($"holding {first.Length} bytes"), "the analyzer to hold the request");

        Assert.Contains("held=True", hold);
        Assert.False(origin.Poll(0, SelectMode.SelectRead), "the proxy connected to the server while the analyzer held the request");

        await client.SendAllAsync("GO"u8.ToArray());
        using Socket server = await origin.AcceptAsync().WithDeadline("the proxy to connect once the analyzer released the request");
        string received = await ReadUntilAsync(server, "GO");
        Assert.EndsWith("GO", received);
        if (supervisor == "http")
        {
            Assert.StartsWith("POST /contract HTTP/1.1\r\n", received);
        }
        else
        {
            Assert.Equal("first part, GO", received);
        }
    }

    [Theory]
    [MemberData(nameof(Supervisors))]
    public async Task AnalyzersOwnTimeout_EndsTheHold_LongBeforeTimeoutRequest(string supervisor)
    {
        await using StubServer origin = StubServer.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(supervisor, origin.Address, "\"contract_short_timeout\"", "timeout_request = \"60s\""));
        using Socket client = await proxy.ConnectAsync();
        var elapsed = Stopwatch.StartNew();

        await client.SendAllAsync(Encoding.ASCII.GetBytes(FirstPart(supervisor)));
        byte[] answer = await client.ReadToEndAsync(TimeSpan.FromSeconds(20));

        Assert.True(elapsed.Elapsed < TimeSpan.FromSeconds(20), $"the hold lasted {elapsed.Elapsed}");
        Assert.Equal(0, origin.Accepted);
        await StreamLineAsync(proxy, supervisor, l => l.Contains("request_timeout"), "the request timeout");
        if (supervisor == "http")
        {
            Assert.StartsWith("HTTP/1.1 408 ", Encoding.ASCII.GetString(answer));
        }
    }

    [Theory]
    [MemberData(nameof(Supervisors))]
    public async Task Bypass_SkipsTheAnalyzer_ForTheRestOfTheStream(string supervisor)
    {
        await using StubServer origin = supervisor == "http" ? HttpOkStub() : StubServer.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(supervisor, origin.Address, "\"contract_bypass\", \"contract_hold_until_go\""));
        using Socket client = await proxy.ConnectAsync();

        string first = FirstPart(supervisor);
        await client.SendAllAsync(Encoding.ASCII.GetBytes(first));
        await proxy.Logs.WaitForAsync("PluginProxy.Tests.Probe.HoldUntilGo", l => l.Contains($"holding {first.Length} bytes"), "the second analyzer to hold");
        await client.SendAllAsync("G"u8.ToArray());
        await proxy.Logs.WaitForAsync("PluginProxy.Tests.Probe.HoldUntilGo", l => l.Contains($"holding {first.Length + 1} bytes"), "the second analyzer to hold again");
        await client.SendAllAsync("O"u8.ToArray());
        await ReadUntilAsync(client, supervisor == "http" ? "ok" : "GO");

        // Called once, before the first hold; not again when the chain ran on the new bytes.
        Assert.Single(proxy.Logs.Category("PluginProxy.Tests.Probe.BypassOnce"));
    }

    [Theory]
    [MemberData(nameof(Supervisors))]
    public async Task Stop_AnswersWithTheReply_AndContactsNoServer(string supervisor)
    {
        await using StubServer origin = StubServer.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(supervisor, origin.Address, "\"deny_all\""));
        using Socket client = await proxy.ConnectAsync();

        await client.SendAllAsync(Encoding.ASCII.GetBytes(FirstPart(supervisor)));
        string answer = Encoding.ASCII.GetString(await client.ReadToEndAsync());

        Assert.EndsWith("denied\n", answer);
        Assert.Equal(supervisor == "http", answer.StartsWith("HTTP/1.1 403 ", StringComparison.Ordinal));
        Assert.Equal(0, origin.Accepted);
        await StreamLineAsync(proxy, supervisor, l => l.Contains("analyzer_stopped"), "the stopped stream");
    }

    [Theory]
    [MemberData(nameof(Supervisors))]
    public async Task AnalyzerThatThrows_EndsOnlyItsOwnStream(string supervisor)
    {
        await using StubServer origin = supervisor == "http" ? HttpOkStub() : StubServer.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(supervisor, origin.Address, "\"contract_throw_on_boom\""));
        using Socket failing = await proxy.ConnectAsync();
        using Socket fine = await proxy.ConnectAsync();

        string boom = supervisor == "http" ? "GET /boom HTTP/1.1\r\nHost: a\r\n\r\n" : "boom";
        await failing.SendAllAsync(Encoding.ASCII.GetBytes(boom));
        string answer = Encoding.ASCII.GetString(await failing.ReadToEndAsync());
        await StreamLineAsync(proxy, supervisor, l => l.Contains("internal_error") && l.Contains("boom in the held bytes"), "the failed stream");

        await fine.SendAllAsync(Encoding.ASCII.GetBytes(supervisor == "http" ? "GET /fine HTTP/1.1\r\nHost: a\r\n\r\n" : "fine"));
        Assert.EndsWith(supervisor == "http" ? "ok" : "fine", await ReadUntilAsync(fine, supervisor == "http" ? "ok" : "fine"));
        Assert.Equal(supervisor == "http", answer.StartsWith("HTTP/1.1 500 ", StringComparison.Ordinal));
    }

    /// <summary>The line that logs a stream: the session's line in tcp mode, the access log line of each request in http mode.</summary>
    private static Task<string> StreamLineAsync(RunningProxy proxy, string supervisor, Func<string, bool> match, string what) => supervisor == "http"
        ? proxy.AccessLog.WaitForAsync(match, what)
        : proxy.Logs.WaitForSessionAsync(match, what);

    /// <summary>An origin answering every request on a connection with a 200 "ok" (enough for one request per connection here).</summary>
    private static StubServer HttpOkStub() => new(async socket =>
    {
        await ReadUntilAsync(socket, "\r\n\r\n");
        await socket.SendAllAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"u8.ToArray());
        await ReadUntilAsync(socket, "never", allowClose: true);
    });

    private static async Task<string> ReadUntilAsync(Socket socket, string end, bool allowClose = false)
    {
        var text = new StringBuilder();
        var buffer = new byte[4096];
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (!text.ToString().Contains(end, StringComparison.Ordinal))
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
            if (n == 0)
            {
                Assert.True(allowClose, $"the peer closed before \"{end}\"; got: {text}");
                break;
            }

            text.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }

        return text.ToString();
    }
}
