using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Cli;

/// <summary>
/// The access log of a real process (docs/http.md, "Access log"): JSON lines on its standard output, captured headers,
/// a file that logrotate moves and SIGUSR1 reopens, syslog over UDP, and a reload that changes all of them.
/// </summary>
public sealed partial class AccessLogTargetTests
{
    private static string Config(string global, string httpOrigin, string echo, string listener = "") => $$"""
        [global]
        plugins = "{{RepoPaths.PluginsBin}}"
        {{global}}

        [[listener]]
        name = "web"
        bind = ["127.0.0.1:0"]
        supervisor = "http"
        backend = "app"
        {{listener}}

        [[listener]]
        name = "raw"
        bind = ["127.0.0.1:0"]
        supervisor = "tcp"
        backend = "echo"

        [[backend]]
        name = "app"
        servers = [{ name = "origin", address = "{{httpOrigin}}" }]

        [[backend]]
        name = "echo"
        servers = [{ name = "e1", address = "{{echo}}" }]
        """;

    [GeneratedRegex(@"^<(?<pri>\d{1,3})>1 (?<time>\S+Z) (?<host>[!-~]+) pluginproxy (?<pid>\d+) (?<msgid>access|session) - (?<msg>.*)$")]
    private static partial Regex Syslog();

    private static async Task<RawResponse> GetAsync(int port, string target, string fields = "")
    {
        using RawHttp client = await RawHttp.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        await client.SendAsync($"GET {target} HTTP/1.1\r\nHost: example.com\r\n{fields}Connection: close\r\n\r\n");
        return await client.ReadResponseAsync();
    }

    private static async Task<int> EchoAsync(int port)
    {
        using Socket session = await SocketExtensions.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        int localPort = ((IPEndPoint)session.LocalEndPoint!).Port;
        await session.SendAllAsync("hello"u8.ToArray());
        session.Shutdown(SocketShutdown.Send);
        await session.ReadToEndAsync();
        return localPort;
    }

    private static JsonElement? AsJson(string line)
    {
        if (!line.StartsWith('{'))
        {
            return null;
        }

        using JsonDocument document = JsonDocument.Parse(line);
        return document.RootElement.Clone();
    }

    [Fact]
    public async Task JsonFormat_WritesOneObjectPerLineOnStandardOutput_ForHttpStreamsAndTcpSessions_WithCapturedHeaders()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using StubServer echo = StubServer.Echo();
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", Config("access_log_format = \"json\"", origin.Address, echo.Address,
            "capture_request_headers = [\"Host\", { name = \"User-Agent\", len = 8 }]\ncapture_response_headers = [\"Content-Length\"]"));
        using ProxyProcess proxy = ProxyProcess.Start(["run", "--config", path]);
        int web = await proxy.WaitForListenerPortAsync("web");
        int raw = await proxy.WaitForListenerPortAsync("raw");

        RawResponse response = await GetAsync(web, "/json?q=\"1\"", "User-Agent: pluginproxy-tests/1.0\r\n");
        JsonElement http = AsJson(await proxy.WaitForLineAsync(l => l.StartsWith('{') && l.Contains("/json?q="), "the stream's JSON line"))!.Value;
        int sessionPort = await EchoAsync(raw);
        JsonElement tcp = AsJson(await proxy.WaitForLineAsync(l => l.StartsWith('{') && l.Contains($"\"127.0.0.1:{sessionPort}\""), "the session's JSON line"))!.Value;

        Assert.Equal(("http", "web", "app", "origin"), (http.GetProperty("kind").GetString(), http.GetProperty("listener").GetString(),
            http.GetProperty("backend").GetString(), http.GetProperty("server").GetString()));
        Assert.Equal((200, "normal"), (http.GetProperty("status").GetInt32(), http.GetProperty("termination").GetString()));
        Assert.Equal(response.Head.Length + response.Body.Length, http.GetProperty("bytes_out").GetInt64());
        Assert.Equal(("GET", "/json?q=\"1\"", "HTTP/1.1"), (http.GetProperty("method").GetString(), http.GetProperty("target").GetString(), http.GetProperty("version").GetString()));
        Assert.Equal("example.com", http.GetProperty("request_headers").GetProperty("host").GetString());
        Assert.Equal("pluginpr", http.GetProperty("request_headers").GetProperty("user-agent").GetString());
        Assert.Equal(response.Header("Content-Length"), http.GetProperty("response_headers").GetProperty("content-length").GetString());
        Assert.InRange(DateTime.Parse(http.GetProperty("time").GetString()!).ToUniversalTime(), DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddSeconds(1));

        Assert.Equal(("tcp", "raw", "echo", "e1"), (tcp.GetProperty("kind").GetString(), tcp.GetProperty("listener").GetString(),
            tcp.GetProperty("backend").GetString(), tcp.GetProperty("server").GetString()));
        Assert.Equal((5, 5), (tcp.GetProperty("bytes_in").GetInt32(), tcp.GetProperty("bytes_out").GetInt32()));

        // Nothing else on standard output is JSON: the process's own log keeps its text lines.
        Assert.Contains(proxy.Output, l => l.Contains(" info  host: PluginProxy started"));
    }

    [Fact]
    public async Task TextFormat_WithCapturedHeaders_PutsHaproxyBlocksBeforeTheRequestLine()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using StubServer echo = StubServer.Echo();
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", Config("", origin.Address, echo.Address,
            "capture_request_headers = [\"Host\", \"X-Absent\"]\ncapture_response_headers = [\"Content-Length\"]"));
        using ProxyProcess proxy = ProxyProcess.Start(["run", "--config", path]);
        int web = await proxy.WaitForListenerPortAsync("web");

        RawResponse response = await GetAsync(web, "/text");
        string line = await proxy.WaitForLineAsync(l => l.Contains(" access: ") && l.Contains("/text"), "the access-log line");

        Assert.Matches($@" web app/origin \S+ 200 \d+ normal retries=0 \{{example\.com\|\}} \{{{response.Header("Content-Length")}\}} ""GET /text HTTP/1\.1""$", line);

        // SIGUSR1 (logrotate's) does not end a process whose target is no file: its default action would.
        proxy.Signal(ProxyProcess.SigUsr1);
        await GetAsync(web, "/after-sigusr1");
        await proxy.WaitForLineAsync(l => l.Contains(" access: ") && l.Contains("/after-sigusr1"), "a line after SIGUSR1");
    }

    [Fact]
    public async Task AFileTarget_IsReopenedOnSigusr1_SoThatLogrotatesMoveStartsANewFile()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using StubServer echo = StubServer.Echo();
        using var directory = new TempDirectory();
        string log = Path.Combine(directory.Path, "access.log");
        string path = directory.Write("proxy.toml", Config("access_log_target = \"access.log\"", origin.Address, echo.Address));
        using ProxyProcess proxy = ProxyProcess.Start(["run", "--config", path]);
        int web = await proxy.WaitForListenerPortAsync("web");
        int raw = await proxy.WaitForListenerPortAsync("raw");

        await GetAsync(web, "/before-rotation");
        await Wait.UntilAsync(() => File.Exists(log) && File.ReadAllText(log).Contains("/before-rotation"), "the first line in access.log");
        File.Move(log, log + ".1");
        proxy.Signal(ProxyProcess.SigUsr1);
        await proxy.WaitForLineAsync(l => l.Contains($"Access log file {log} reopened"), "the reopen");
        await GetAsync(web, "/after-rotation");
        int sessionPort = await EchoAsync(raw);
        await Wait.UntilAsync(() => File.Exists(log) && File.ReadAllText(log).Contains($"127.0.0.1:{sessionPort} "), "the later lines in a new access.log");

        string[] rotated = File.ReadAllLines(log + ".1");
        string[] fresh = File.ReadAllLines(log);
        Assert.Matches(@"^\S+Z info  access: 127\.0\.0\.1:\d+ \[[^\]]+\] web app/origin .* ""GET /before-rotation HTTP/1\.1""$", Assert.Single(rotated));
        Assert.Equal(2, fresh.Length);
        Assert.Contains(fresh, l => l.Contains(" info  access: ") && l.EndsWith("\"GET /after-rotation HTTP/1.1\""));
        Assert.Contains(fresh, l => l.Contains($" info  session: 127.0.0.1:{sessionPort} ") && l.Contains(" raw echo/e1 "));

        // None of the traffic lines went to standard output.
        Assert.DoesNotContain(proxy.Output, l => l.Contains("rotation HTTP/1.1") || l.Contains($"127.0.0.1:{sessionPort} "));
    }

    [Fact]
    public async Task SyslogOverUdp_ReceivesRfc5424Messages_FromTheProcess()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using StubServer echo = StubServer.Echo();
        using var receiver = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        int syslogPort = ((IPEndPoint)receiver.Client.LocalEndPoint!).Port;
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", Config($"access_log_target = \"udp://127.0.0.1:{syslogPort}\"", origin.Address, echo.Address));
        using ProxyProcess proxy = ProxyProcess.Start(["run", "--config", path]);
        int web = await proxy.WaitForListenerPortAsync("web");
        int raw = await proxy.WaitForListenerPortAsync("raw");

        await GetAsync(web, "/syslog");
        Match http = Syslog().Match(Encoding.UTF8.GetString((await receiver.ReceiveAsync().WithDeadline("the stream's datagram", TimeSpan.FromSeconds(30))).Buffer));
        int sessionPort = await EchoAsync(raw);
        Match tcp = Syslog().Match(Encoding.UTF8.GetString((await receiver.ReceiveAsync().WithDeadline("the session's datagram", TimeSpan.FromSeconds(30))).Buffer));

        Assert.True(http.Success && tcp.Success, $"not RFC 5424: {http.Value} / {tcp.Value}");
        Assert.Equal(("134", proxy.Pid.ToString(), "access"), (http.Groups["pri"].Value, http.Groups["pid"].Value, http.Groups["msgid"].Value));
        Assert.Matches(@"^127\.0\.0\.1:\d+ \[[^\]]+\] web app/origin \S+ 200 \d+ normal retries=0 ""GET /syslog HTTP/1\.1""$", http.Groups["msg"].Value);
        Assert.Equal(("134", "session"), (tcp.Groups["pri"].Value, tcp.Groups["msgid"].Value));
        Assert.StartsWith($"127.0.0.1:{sessionPort} [", tcp.Groups["msg"].Value);
        Assert.Equal(Environment.MachineName, http.Groups["host"].Value);
    }

    [Fact]
    public async Task ATargetThatCannotBeOpened_StopsTheStart_ReportedWithTheOtherProblems()
    {
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", Config("access_log_target = \"/proc/pluginproxy-access.log\"\ngrace = 5", "127.0.0.1:9", "127.0.0.1:9"));

        (int code, string output) = await ProxyProcess.RunAsync("run", "--config", path);

        Assert.Equal(1, code);
        Assert.Contains($"{path}:3:21: `access_log_target`: cannot open /proc/pluginproxy-access.log: ", output);
        Assert.Contains($"{path}:4:9: ", output);
        Assert.Contains("2 error(s)", output);
    }

    [Fact]
    public async Task AReload_ChangesTheTargetTheFormatAndTheCapturedHeaders_ForLaterLines()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using StubServer echo = StubServer.Echo();
        using var directory = new TempDirectory();
        string first = Path.Combine(directory.Path, "first.log");
        string second = Path.Combine(directory.Path, "second.log");
        string path = directory.Write("proxy.toml", Config("access_log_target = \"first.log\"", origin.Address, echo.Address, "capture_request_headers = [\"Host\"]"));
        using ProxyProcess proxy = ProxyProcess.Start(["run", "--config", path]);
        int web = await proxy.WaitForListenerPortAsync("web");

        await GetAsync(web, "/first", "User-Agent: agent-1\r\n");
        await Wait.UntilAsync(() => File.Exists(first) && File.ReadAllText(first).Contains("/first"), "the first line");
        directory.Write("proxy.toml", Config("access_log_format = \"json\"\naccess_log_target = \"second.log\"", origin.Address, echo.Address, "capture_request_headers = [\"User-Agent\"]"));
        proxy.Signal(ProxyProcess.SigHup);
        await proxy.WaitForLineAsync(l => l.Contains($"Access log now written to {second} (json)"), "the new target");
        await proxy.WaitForLineAsync(l => l.Contains("Configuration reloaded"), "the reload");
        await GetAsync(web, "/second", "User-Agent: agent-2\r\n");
        await Wait.UntilAsync(() => File.Exists(second) && File.ReadAllText(second).Contains("/second"), "the later line in second.log");

        Assert.Contains(" {example.com} \"GET /first HTTP/1.1\"", Assert.Single(File.ReadAllLines(first)));
        JsonElement line = AsJson(Assert.Single(File.ReadAllLines(second)))!.Value;
        Assert.Equal("/second", line.GetProperty("target").GetString());
        Assert.Equal("agent-2", line.GetProperty("request_headers").GetProperty("user-agent").GetString());
        Assert.False(line.GetProperty("request_headers").TryGetProperty("host", out _));

        // A target that cannot be opened refuses the reload, and lines go on to the one in use.
        directory.Write("proxy.toml", Config("access_log_format = \"json\"\naccess_log_target = \"/proc/pluginproxy-access.log\"", origin.Address, echo.Address));
        proxy.Signal(ProxyProcess.SigHup);
        string refused = await proxy.WaitForLineAsync(l => l.Contains("reload refused"), "the refused reload");
        Assert.Contains($"{path}:4:21: `access_log_target`: cannot open /proc/pluginproxy-access.log", refused);
        await GetAsync(web, "/third");
        await Wait.UntilAsync(() => File.ReadAllText(second).Contains("/third"), "the line after the refused reload in second.log");
    }
}
