using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;
using PluginProxy.Host;
using PluginProxy.Host.Configuration;
using PluginProxy.Host.Logging;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Logging;

/// <summary>The host's traffic log writer: its destinations (a file reopened on demand, syslog over UDP or a Unix socket), and no allocation per line.</summary>
public sealed partial class AccessLogWriterTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly CapturedLogs _logs = new();
    private readonly ILoggerFactory _loggers;

    public AccessLogWriterTests() => _loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Information).AddProvider(_logs));

    // <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG (RFC 5424, section 6).
    [GeneratedRegex(@"^<(?<pri>\d{1,3})>1 (?<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (?<host>[!-~]{1,255}) (?<app>pluginproxy) (?<pid>\d+) (?<msgid>access|session) - (?<msg>.*)$", RegexOptions.Singleline)]
    private static partial Regex Syslog();

    private ProxyConfig Config(string global) => ConfigLoader.Parse($$"""
        [global]
        {{global}}

        [[listener]]
        name = "web"
        bind = ["127.0.0.1:0"]
        supervisor = "http"
        backend = "app"
        capture_request_headers = ["Host", { name = "User-Agent", len = 4 }]
        capture_response_headers = ["Content-Type"]

        [[backend]]
        name = "app"
        servers = [{ name = "a", address = "127.0.0.1:9001" }]
        """, Path.Combine(_directory.Path, "proxy.toml"), _directory.Path);

    private static AccessRecord Record(HttpExchange exchange) => AccessRecords.Served(exchange);

    [Theory]
    [InlineData("text")]
    [InlineData("json")]
    public void WritingARecord_AllocatesNothing(string format)
    {
        using AccessLogWriter writer = AccessLogWriter.Open(Config($"access_log_format = \"{format}\"\naccess_log_target = \"access.log\""), _loggers);
        HttpExchange exchange = AccessRecords.Exchange("GET /a?q=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8\r\n\r\n", ("Content-Type", "text/plain"));
        for (int i = 0; i < 2000; i++)
        {
            writer.Write(Record(exchange));
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            writer.Write(Record(exchange));
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void AFileTarget_GetsTextLinesWithTheLogsPrefix_AndSessionLines()
    {
        AccessLogWriter writer = AccessLogWriter.Open(Config("access_log_target = \"logs.txt\""), _loggers);
        writer.Write(Record(AccessRecords.Exchange("GET /x HTTP/1.1\r\nHost: h\r\nUser-Agent: abcdefg\r\n\r\n", ("Content-Type", "a/b"))));
        var connection = new AcceptedConnection("raw", AcceptFlags.None, new IPEndPoint(IPAddress.Loopback, 50000), new IPEndPoint(IPAddress.Loopback, 8080));
        writer.SessionEnded(connection, new SessionLog { Backend = "b", Server = "s" }, System.Diagnostics.Stopwatch.GetTimestamp());
        writer.Write("a supervisor's own line\nwith a line break");
        writer.Dispose();

        string[] lines = File.ReadAllLines(Path.Combine(_directory.Path, "logs.txt"));
        Assert.Equal(3, lines.Length);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info  access: 127\.0\.0\.1:41914 \[30/Nov/2026:00:59:18\.974\] web app/s1 3/0/1/7/12 200 406 normal retries=1 \{h\|abcd\} \{a/b\} ""GET /x HTTP/1\.1""$", lines[0]);
        Assert.Matches(@"^\S+Z info  session: 127\.0\.0\.1:50000 \[[^\]]+\] raw b/s -1/\d+ in=0 out=0 normal retries=0$", lines[1]);
        Assert.EndsWith(" info  access: a supervisor's own line with a line break", lines[2]);
    }

    [Fact]
    public void AJsonFileTarget_GetsOneJsonObjectPerLine_WithNoPrefix()
    {
        AccessLogWriter writer = AccessLogWriter.Open(Config("access_log_format = \"json\"\naccess_log_target = \"logs.json\""), _loggers);
        writer.Write(Record(AccessRecords.Exchange("GET /x HTTP/1.1\r\nHost: h\r\n\r\n")));
        var connection = new AcceptedConnection("raw", AcceptFlags.None, new IPEndPoint(IPAddress.Loopback, 50000), new IPEndPoint(IPAddress.Loopback, 8080));
        writer.ConnectionRefused(connection, new SessionLog { Termination = SessionTermination.HandshakeFailed, Detail = "bad PROXY header" }, System.Diagnostics.Stopwatch.GetTimestamp());
        writer.Write("own line");
        writer.Dispose();

        JsonElement[] lines = File.ReadAllLines(Path.Combine(_directory.Path, "logs.json")).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(["http", "tcp", "line"], lines.Select(l => l.GetProperty("kind").GetString()));
        Assert.Equal("h", lines[0].GetProperty("request_headers").GetProperty("host").GetString());
        Assert.Equal(JsonValueKind.Null, lines[0].GetProperty("response_headers").GetProperty("content-type").ValueKind);
        Assert.Equal("bad PROXY header", lines[1].GetProperty("detail").GetString());
        Assert.Equal("own line", lines[2].GetProperty("message").GetString());
    }

    [Fact]
    public async Task Reopen_SendsLaterLinesToANewFile_AfterTheOldOneWasMoved()
    {
        string path = Path.Combine(_directory.Path, "access.log");
        AccessLogWriter writer = AccessLogWriter.Open(Config("access_log_target = \"access.log\""), _loggers);
        writer.Write(Record(AccessRecords.Exchange("GET /before HTTP/1.1\r\n\r\n")));
        await Wait.UntilAsync(() => File.Exists(path) && File.ReadAllText(path).Contains("/before"), "the first line in the file");
        File.Move(path, path + ".1");

        writer.Reopen();
        await _logs.WaitForAsync("PluginProxy.AccessLog", l => l == $"Access log file {path} reopened", "the reopen");
        writer.Write(Record(AccessRecords.Exchange("GET /after HTTP/1.1\r\n\r\n")));
        writer.Dispose();

        Assert.Contains("/before", File.ReadAllText(path + ".1"));
        Assert.DoesNotContain("/after", File.ReadAllText(path + ".1"));
        Assert.Contains("/after", Assert.Single(File.ReadAllLines(path)));
    }

    [Fact]
    public async Task SyslogOverUdp_SendsOneRfc5424DatagramPerLine_WithTheConfiguredFacility()
    {
        using var receiver = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)receiver.Client.LocalEndPoint!).Port;
        using AccessLogWriter writer = AccessLogWriter.Open(Config($"access_log_target = \"udp://127.0.0.1:{port}\"\naccess_log_facility = \"local3\""), _loggers);

        writer.Write(Record(AccessRecords.Exchange("GET /one HTTP/1.1\r\n\r\n")));
        writer.Write(Record(AccessRecords.Exchange("GET /two HTTP/1.1\r\n\r\n")));
        var connection = new AcceptedConnection("raw", AcceptFlags.None, new IPEndPoint(IPAddress.Loopback, 50000), new IPEndPoint(IPAddress.Loopback, 8080));
        writer.ConnectionRefused(connection, new SessionLog { Termination = SessionTermination.HandshakeFailed }, System.Diagnostics.Stopwatch.GetTimestamp());

        Match[] messages = new Match[3];
        for (int i = 0; i < 3; i++)
        {
            UdpReceiveResult datagram = await receiver.ReceiveAsync().WithDeadline("a syslog datagram");
            messages[i] = Syslog().Match(Encoding.UTF8.GetString(datagram.Buffer));
            Assert.True(messages[i].Success, Encoding.UTF8.GetString(datagram.Buffer));
        }

        // local3 (19) * 8 + info (6) = 158; warning (4) for a refused connection: 156.
        Assert.Equal(["158", "158", "156"], messages.Select(m => m.Groups["pri"].Value));
        Assert.Equal(["access", "access", "session"], messages.Select(m => m.Groups["msgid"].Value));
        Assert.All(messages, m => Assert.Equal(Environment.ProcessId.ToString(), m.Groups["pid"].Value));
        Assert.StartsWith("127.0.0.1:41914 [30/Nov/2026:00:59:18.974] web app/s1 ", messages[0].Groups["msg"].Value);
        Assert.EndsWith("\"GET /one HTTP/1.1\"", messages[0].Groups["msg"].Value);
        Assert.EndsWith("\"GET /two HTTP/1.1\"", messages[1].Groups["msg"].Value);
        Assert.InRange(DateTime.Parse(messages[0].Groups["time"].Value).ToUniversalTime(), DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddMinutes(1));
    }

    [Fact]
    public async Task SyslogOverAUnixDatagramSocket_GetsJsonMessages()
    {
        string path = Path.Combine(_directory.Path, "log.sock");
        using var receiver = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        receiver.Bind(new UnixDomainSocketEndPoint(path));
        using AccessLogWriter writer = AccessLogWriter.Open(Config($"access_log_format = \"json\"\naccess_log_target = \"unix://{path}\""), _loggers);

        writer.Write(Record(AccessRecords.Exchange("GET /unix HTTP/1.1\r\nHost: h\r\n\r\n")));

        byte[] buffer = new byte[65536];
        int received = await receiver.ReceiveAsync(buffer, SocketFlags.None).WithDeadline("a datagram on the Unix socket");
        Match message = Syslog().Match(Encoding.UTF8.GetString(buffer, 0, received));
        Assert.True(message.Success, Encoding.UTF8.GetString(buffer, 0, received));
        Assert.Equal(("134", "access"), (message.Groups["pri"].Value, message.Groups["msgid"].Value));
        JsonElement line = JsonDocument.Parse(message.Groups["msg"].Value).RootElement;
        Assert.Equal(("/unix", "h"), (line.GetProperty("target").GetString(), line.GetProperty("request_headers").GetProperty("host").GetString()));
    }

    [Fact]
    public void ATargetThatCannotBeOpened_IsAProblemAtItsKey()
    {
        // /proc exists, but no file can be made in it (not even by root).
        ProxyConfig config = Config("access_log_target = \"/proc/pluginproxy-access.log\"");

        using AccessLogWriter writer = AccessLogWriter.Open(config, _loggers);

        Assert.StartsWith($"{config.FilePath}:2:21: `access_log_target`: cannot open /proc/pluginproxy-access.log: ", writer.OpenError?.ToString());
    }

    [Fact]
    public void Check_OpensNoTarget()
    {
        using ILoggerFactory quiet = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning).AddProvider(_logs));

        using AccessLogWriter writer = AccessLogWriter.Open(Config("access_log_target = \"/proc/pluginproxy-access.log\""), quiet);

        Assert.False(writer.IsEnabled);
    }

    public void Dispose()
    {
        _loggers.Dispose();
        _directory.Dispose();
    }
}
