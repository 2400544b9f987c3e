using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.Logging;
using PluginProxy.Host.Backends;
using PluginProxy.Host.Configuration;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Backends;

/// <summary>
/// <c>kind = "http"</c> checks end to end, over real sockets: the connect goes through the server connector (TLS
/// included) without counting as traffic, the request and the answer's head go through the http plugin's codec.
/// </summary>
public class HttpCheckTests
{
    private const string FastCheck = "check = { kind = \"http\", path = \"/health\", interval = \"20ms\", timeout = \"10s\", rise = 1, fall = 1 }";

    private static Server Origin(RunningProxy proxy, int index = 0) => (Server)proxy.Host.Backends.Find("app")!.Servers[index];

    /// <summary>Reads a request head (through its empty line) and returns it.</summary>
    private static async Task<string> ReadHeadAsync(Socket socket)
    {
        var head = new List<byte>();
        var buffer = new byte[1024];
        while (head.Count < 4 || !head.TakeLast(4).SequenceEqual("\r\n\r\n"u8.ToArray()))
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None);
            if (n == 0)
            {
                throw new EndOfStreamException("the check closed before its request head ended");
            }

            head.AddRange(buffer.AsSpan(0, n));
        }

        return Encoding.ASCII.GetString(head.ToArray());
    }

    [Fact]
    public async Task MalformedStatusLine_TakesTheServerDown_WithTheReasonInItsStateAndTheLog()
    {
        await using var stub = new StubServer(async socket =>
        {
            await ReadHeadAsync(socket);
            await socket.SendAllAsync("HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n"u8.ToArray());
        });
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(stub.Address, backendExtra: FastCheck));
        Server origin = Origin(proxy);

        await Wait.UntilAsync(() => !origin.IsUp, "the server answering a malformed status line to go down");

        Assert.Equal("not an HTTP response: malformed status line \"HTTP/1.1 2OO OK\"", origin.LastCheckFailure);
        await proxy.Logs.WaitForAsync("PluginProxy.Health",
            l => l == "Server app/origin is DOWN (1 checks failed, last: not an HTTP response: malformed status line \"HTTP/1.1 2OO OK\")", "the reason in the log");
    }

    [Fact]
    public async Task ResponseHeadSplitAcrossSeveralWrites_Passes_AndTheRequestCarriesHostUserAgentAndClose()
    {
        // The first check gets garbage (the server goes down), every later one a head written in pieces: only checks
        // that read the whole head across those writes can bring the server back up.
        string[] pieces = ["HT", "TP/1.", "1 20", "0 OK\r", "\nContent-Len", "gth: 0\r\n", "Connection: close\r\n\r", "\n"];
        var heads = new ConcurrentQueue<string>();
        int checks = 0;
        await using var stub = new StubServer(async socket =>
        {
            socket.NoDelay = true;
            heads.Enqueue(await ReadHeadAsync(socket));
            if (Interlocked.Increment(ref checks) == 1)
            {
                await socket.SendAllAsync("garbage\r\n\r\n"u8.ToArray());
                return;
            }

            foreach (string piece in pieces)
            {
                await socket.SendAllAsync(Encoding.ASCII.GetBytes(piece));
            }
        });
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(stub.Address, backendExtra: FastCheck));
        Server origin = Origin(proxy);

        await proxy.Logs.WaitForAsync("PluginProxy.Health", l => l.Contains("app/origin is DOWN") && l.Contains("not an HTTP response: \"garbage\""), "the garbage to take it down");
        await proxy.Logs.WaitForAsync("PluginProxy.Health", l => l == "Server app/origin is UP (1 checks passed)", "a split head to bring it back");

        Assert.True(origin.IsUp);
        Assert.Null(origin.LastCheckFailure);
        Assert.Equal($"GET /health HTTP/1.1\r\nHost: {stub.Address}\r\nUser-Agent: PluginProxy-check\r\nConnection: close\r\n\r\n", heads.First());
    }

    [Fact]
    public async Task TlsServer_IsCheckedThroughTheConnector_OverItsVerifiedTls_AndTheChecksAreNotTraffic()
    {
        using var folder = new TempDirectory();
        using var pki = new TestPki(folder.Path);
        await using var tls = new TlsOrigin(pki.Issue("origin", "origin.test"));
        string config = HttpConfig.For(tls.Address, backendExtra: FastCheck.Replace("path = \"/health\"", "path = \"/health\", host = \"app.test\""))
            .Replace($"address = \"{tls.Address}\"", $"address = \"{tls.Address}\", tls = true, sni = \"origin.test\", verify = \"{pki.AuthorityPath}\"");
        await using RunningProxy proxy = await RunningProxy.StartAsync(config);
        Server origin = Origin(proxy);

        // A check starts only after the previous one was counted: three of them mean two results were acted on.
        await Wait.UntilAsync(() => tls.RequestLines.Count(l => l == "GET /health HTTP/1.1") >= 3, "three http checks over TLS");

        Assert.True(origin.IsUp, $"down: {origin.LastCheckFailure}");
        Assert.Null(origin.LastCheckFailure);
        Assert.All(tls.ServerNames, name => Assert.Equal("origin.test", name));
        Assert.True(origin.Checks >= 3, $"{origin.Checks} checks counted");
        Assert.Equal(0, origin.TotalConnections);
        Assert.Equal(0, origin.ActiveConnections);
        Assert.Equal(0, origin.ActiveStreams);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Http2Server_IsCheckedOverHttp2(bool tls)
    {
        using var folder = new TempDirectory();
        using var pki = new TestPki(folder.Path);
        IssuedCertificate issued = pki.Issue("origin", "origin.test");
        using X509Certificate2 certificate = X509Certificate2.CreateFromPemFile(issued.CertPath, issued.KeyPath);
        await using H2HealthOrigin h2 = await H2HealthOrigin.StartAsync(tls ? certificate : null);
        h2.Status = 503;
        string serverTls = tls ? $", tls = true, sni = \"origin.test\", verify = \"{pki.AuthorityPath}\"" : "";
        string config = HttpConfig.For(h2.Address, backendExtra: FastCheck.Replace("path = \"/health\"", "path = \"/health\", host = \"h2.test\""))
            .Replace($"address = \"{h2.Address}\"", $"address = \"{h2.Address}\", proto = \"h2\"{serverTls}");
        await using RunningProxy proxy = await RunningProxy.StartAsync(config);
        Server origin = Origin(proxy);

        await Wait.UntilAsync(() => !origin.IsUp, "a 503 over HTTP/2 to take the server down");
        Assert.Equal("HTTP status 503", origin.LastCheckFailure);
        h2.Status = 200;
        await Wait.UntilAsync(() => origin.IsUp, "a 200 over HTTP/2 to bring it back");

        (string protocol, string method, string host, string path, string userAgent) = h2.Requests.First();
        Assert.Equal(("HTTP/2", "GET", "h2.test", "/health", "PluginProxy-check"), (protocol, method, host, path, userAgent));
        Assert.Equal(0, origin.TotalConnections);
    }

    [Fact]
    public async Task Checks_LeaveTheTrafficCountersAlone_ForAServerUpAndForOneThatRefuses()
    {
        int checks = 0;
        await using var live = new StubServer(async socket =>
        {
            string head = await ReadHeadAsync(socket);
            if (head.Contains("PluginProxy-check"))
            {
                Interlocked.Increment(ref checks);
            }

            await socket.SendAllAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"u8.ToArray());
        });
        using var dead = new DeadPort();
        string config = HttpConfig.WithServers([("live", live.Address, 1), ("dead", dead.Address, 1)], backendExtra: FastCheck);
        await using RunningProxy proxy = await RunningProxy.StartAsync(config);
        Server up = Origin(proxy, 0);
        Server refusing = Origin(proxy, 1);

        await Wait.UntilAsync(() => Volatile.Read(ref checks) >= 3 && refusing.Checks >= 3 && !refusing.IsUp, "three checks of each server");

        Assert.Equal("ConnectionRefused", refusing.LastCheckFailure);
        foreach (Server server in new[] { up, refusing })
        {
            Assert.Equal(0, server.TotalConnections);
            Assert.Equal(0, server.FailedConnections);
            Assert.Equal(0, server.ActiveConnections);
            Assert.Equal(0, server.ActiveStreams);
        }

        // Traffic counts: one request, one connection to the server that is up.
        using RawHttp client = await RawHttp.ConnectAsync(proxy);
        await client.SendAsync("GET / HTTP/1.1\r\nHost: app.test\r\n\r\n");
        Assert.Equal(200, (await client.ReadResponseAsync()).Status);
        Assert.Equal(1, up.TotalConnections);
        Assert.Equal(0, refusing.TotalConnections);
    }

    [Fact]
    public async Task WithoutAPluginProvidingHttpChecks_AnHttpCheckFailsWithAClearReason_AndIsWarnedOf_WhileATcpCheckNeedsNone()
    {
        int requests = 0;
        await using var stub = new StubServer(async socket =>
        {
            await ReadHeadAsync(socket);
            Interlocked.Increment(ref requests);
            await socket.SendAllAsync("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"u8.ToArray());
        });
        ProxyConfig config = ConfigLoader.Parse($$"""
            [[listener]]
            name = "web"
            bind = ["127.0.0.1:0"]
            supervisor = "tcp"
            use_backends = ["web", "raw"]

            [[backend]]
            name = "web"
            servers = [{ name = "origin", address = "{{stub.Address}}" }]
            {{FastCheck}}

            [[backend]]
            name = "raw"
            servers = [{ name = "origin", address = "{{stub.Address}}" }]
            check = { kind = "tcp", interval = "20ms", timeout = "10s", rise = 1, fall = 1 }
            """, "proxy.toml", Path.GetTempPath());
        var backends = new BackendCatalog(config.Backends);
        var web = (Server)backends.Find("web")!.Servers[0];
        var raw = (Server)backends.Find("raw")!.Servers[0];
        using var logs = new CapturedLogs();

        // No plugin catalog at all: no plugin provides the probe of http checks.
        await using (new HealthChecker(backends, null, logs.CreateLogger("PluginProxy.Health")))
        {
            await Wait.UntilAsync(() => !web.IsUp && raw.Checks >= 3, "the http check to fail and three tcp checks to run");
        }

        Assert.Equal(HealthCheck.NoHttpProbe, web.LastCheckFailure);
        Assert.Equal("no loaded plugin provides http checks (the http plugin, PluginProxy.Http, does)", web.LastCheckFailure);
        Assert.True(raw.IsUp);
        Assert.Null(raw.LastCheckFailure);
        Assert.Equal(0, Volatile.Read(ref requests));
        CapturedLine warning = Assert.Single(logs.Lines, l => l.Message.StartsWith("Backend web has http health checks", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Equal("Backend web has http health checks, but no loaded plugin provides them (the http plugin does): they fail until one is loaded", warning.Message);
    }
}
