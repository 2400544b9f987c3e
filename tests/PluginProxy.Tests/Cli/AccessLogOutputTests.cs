using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Cli;

/// <summary>
/// The log lines a real process writes on standard output for each HTTP stream (docs/http.md, "Access log") and each
/// tcp session (README.md, "Logging"), field by field.
/// </summary>
public partial class AccessLogOutputTests
{
    private static string Config(string httpOrigin, string echo) => $$"""
        [global]
        plugins = "{{RepoPaths.PluginsBin}}"

        [[listener]]
        name = "web"
        bind = ["127.0.0.1:0"]
        supervisor = "http"
        backend = "app"

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

    // "2026-11-30T00:59:18.974Z info  access: " then, per docs/http.md:
    // client [start] listener backend/server TR/Tw/Tc/Tr/Ta status bytes termination retries=n "request line" ["detail"]
    [GeneratedRegex("""^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info  access: (?<client>\S+) \[(?<date>[^\]]+)\] (?<listener>\S+) (?<backend>[^/ ]+)/(?<server>\S+) (?<TR>-?\d+)/(?<Tw>-?\d+)/(?<Tc>-?\d+)/(?<Tr>-?\d+)/(?<Ta>-?\d+) (?<status>-?\d+) (?<bytes>\d+) (?<termination>[a-z_]+) retries=(?<retries>\d+) "(?<request>(?:[^"\\]|\\x[0-9a-f]{2})*)"(?: "(?<detail>[^"]*)")?$""")]
    private static partial Regex AccessLine();

    // "... info  session: " then, per README.md: client [accept time] listener backend/server Tc/Tt in=n out=n termination retries=n ["detail"]
    [GeneratedRegex("""^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info  session: (?<client>\S+) \[(?<date>[^\]]+)\] (?<listener>\S+) (?<backend>[^/ ]+)/(?<server>\S+) (?<Tc>-?\d+)/(?<Tt>-?\d+) in=(?<in>\d+) out=(?<out>\d+) (?<termination>[a-z_]+) retries=(?<retries>\d+)(?: "(?<detail>[^"]*)")?$""")]
    private static partial Regex SessionLine();

    [Fact]
    public async Task EachHttpStreamAndTcpSession_IsOneLineOnStandardOutput_WithTheDocumentedFields()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using StubServer echo = StubServer.Echo();
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", Config(origin.Address, echo.Address));
        using ProxyProcess proxy = ProxyProcess.Start(["run", "--config", path]);
        int web = await proxy.WaitForListenerPortAsync("web");
        int raw = await proxy.WaitForListenerPortAsync("raw");
        DateTime before = DateTime.UtcNow;

        // A request that is served.
        using RawHttp client = await RawHttp.ConnectAsync(new IPEndPoint(IPAddress.Loopback, web));
        int clientPort = ((IPEndPoint)client.Socket.LocalEndPoint!).Port;
        await client.SendAsync("GET /logged?q=1 HTTP/1.1\r\nHost: a\r\n\r\n");
        RawResponse response = await client.ReadResponseAsync();
        Match served = AccessLine().Match(await proxy.WaitForLineAsync(l => l.Contains(" access: ") && l.Contains("/logged?q=1"), "the access-log line"));

        Assert.True(served.Success, $"not in the documented format: {served.Value}");
        Assert.Equal($"127.0.0.1:{clientPort}", served.Groups["client"].Value);
        AssertRecent(served.Groups["date"].Value, before);
        Assert.Equal(("web", "app", "origin"), (served.Groups["listener"].Value, served.Groups["backend"].Value, served.Groups["server"].Value));
        Assert.Equal("0", served.Groups["Tw"].Value);
        Assert.All(new[] { "TR", "Tc", "Tr", "Ta" }, timer => Assert.InRange(long.Parse(served.Groups[timer].Value), 0, 60_000));
        Assert.True(long.Parse(served.Groups["Ta"].Value) >= long.Parse(served.Groups["Tr"].Value), served.Value);
        Assert.Equal((200, (long)(response.Head.Length + response.Body.Length)), (int.Parse(served.Groups["status"].Value), long.Parse(served.Groups["bytes"].Value)));
        Assert.Equal(("normal", "0"), (served.Groups["termination"].Value, served.Groups["retries"].Value));
        Assert.Equal("GET /logged?q=1 HTTP/1.1", served.Groups["request"].Value);
        Assert.False(served.Groups["detail"].Success, served.Value);

        // A request refused before it could be read: no server, no request line, and a detail saying why.
        using RawHttp bad = await RawHttp.ConnectAsync(new IPEndPoint(IPAddress.Loopback, web));
        int badPort = ((IPEndPoint)bad.Socket.LocalEndPoint!).Port;
        await bad.SendAsync("GET\x01 / HTTP/1.1\r\nHost: a\r\n\r\n");
        RawResponse refused = await bad.ReadResponseAsync();
        Match badLine = AccessLine().Match(await proxy.WaitForLineAsync(l => l.Contains(" access: ") && l.Contains($"127.0.0.1:{badPort} "), "the bad request's line"));

        Assert.True(badLine.Success, $"not in the documented format: {badLine.Value}");
        Assert.Equal(("-", "-"), (badLine.Groups["backend"].Value, badLine.Groups["server"].Value));
        Assert.Equal((400, "bad_request"), (int.Parse(badLine.Groups["status"].Value), badLine.Groups["termination"].Value));
        Assert.Equal(refused.Head.Length + refused.Body.Length, long.Parse(badLine.Groups["bytes"].Value));
        Assert.Equal(("-1", "-1", "-1"), (badLine.Groups["Tw"].Value, badLine.Groups["Tc"].Value, badLine.Groups["Tr"].Value));
        Assert.Equal("<BADREQ>", badLine.Groups["request"].Value);
        Assert.NotEqual("", badLine.Groups["detail"].Value);

        // A tcp session: one line when it ends, with the bytes each way.
        using (Socket session = await SocketExtensions.ConnectAsync(new IPEndPoint(IPAddress.Loopback, raw)))
        {
            int sessionPort = ((IPEndPoint)session.LocalEndPoint!).Port;
            await session.SendAllAsync("hello"u8.ToArray());
            session.Shutdown(SocketShutdown.Send);
            Assert.Equal("hello"u8.ToArray(), await session.ReadToEndAsync());
            Match ended = SessionLine().Match(await proxy.WaitForLineAsync(l => l.Contains(" session: ") && l.Contains($"127.0.0.1:{sessionPort} "), "the session line"));

            Assert.True(ended.Success, $"not in the documented format: {ended.Value}");
            AssertRecent(ended.Groups["date"].Value, before);
            Assert.Equal(("raw", "echo", "e1"), (ended.Groups["listener"].Value, ended.Groups["backend"].Value, ended.Groups["server"].Value));
            Assert.InRange(long.Parse(ended.Groups["Tc"].Value), 0, long.Parse(ended.Groups["Tt"].Value));
            Assert.Equal(("5", "5", "normal", "0"), (ended.Groups["in"].Value, ended.Groups["out"].Value, ended.Groups["termination"].Value, ended.Groups["retries"].Value));
        }
    }

    /// <summary>The bracketed date is UTC, <c>dd/MMM/yyyy:HH:mm:ss.fff</c>, and within this test's run.</summary>
    private static void AssertRecent(string date, DateTime before)
    {
        DateTime at = DateTime.ParseExact(date, "dd/MMM/yyyy:HH:mm:ss.fff", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
        Assert.InRange(at, before.AddSeconds(-1), DateTime.UtcNow.AddSeconds(1));
    }
}
