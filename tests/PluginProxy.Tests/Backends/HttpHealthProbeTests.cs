using System.Net;
using System.Text;
using PluginProxy.Abstractions;
using PluginProxy.Http.Checks;

namespace PluginProxy.Tests.Backends;

/// <summary>
/// The http plugin's health probe over HTTP/1.1, fed by a transport that hands out the server's bytes exactly in the
/// pieces the test chooses, one piece per read: how the head is split is then certain, not up to the kernel.
/// </summary>
public class HttpHealthProbeTests
{
    private static readonly HealthProbeRequest Request = new("/health", "app.test", "PluginProxy-check");

    private static async Task<(HealthProbeResult Result, ScriptedTransport Transport)> ProbeAsync(bool closeAtEnd, params string[] pieces)
    {
        var transport = new ScriptedTransport(closeAtEnd, pieces);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        HealthProbeResult result = await new HttpHealthProbe().ProbeAsync(Request, new ScriptedConnection(transport), timeout.Token);
        return (result, transport);
    }

    [Fact]
    public async Task Request_IsAGetWithHostUserAgentAndConnectionClose()
    {
        (HealthProbeResult result, ScriptedTransport transport) = await ProbeAsync(closeAtEnd: true, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");

        Assert.True(result.IsAnswered);
        Assert.Equal(200, result.Status);
        Assert.Equal("GET /health HTTP/1.1\r\nHost: app.test\r\nUser-Agent: PluginProxy-check\r\nConnection: close\r\n\r\n", transport.Sent);
    }

    [Fact]
    public async Task HeadSplitIntoOneByteReads_IsReassembled()
    {
        const string head = "HTTP/1.1 204 No Content\r\nServer: stub\r\nCache-Control: no-store\r\n\r\n";
        (HealthProbeResult result, ScriptedTransport transport) = await ProbeAsync(false, head.Select(c => c.ToString()).ToArray());

        Assert.Equal(204, result.Status);
        Assert.Null(result.Failure);
        Assert.Equal(head.Length, transport.Reads);
    }

    [Fact]
    public async Task InterimHeads_AreSkipped_TheFinalStatusCounts()
    {
        (HealthProbeResult result, _) = await ProbeAsync(false, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early", " Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 ", "503 Busy\r\n\r\n");

        Assert.Equal(503, result.Status);
        Assert.True(result.IsAnswered);
    }

    public static TheoryData<string[], string> Refused => new()
    {
        { ["HTTP/1.1 2OO OK\r\n\r\n"], "not an HTTP response: malformed status line \"HTTP/1.1 2OO OK\"" },
        { ["HTTP/1.1 200OK\r\n\r\n"], "not an HTTP response: malformed status line \"HTTP/1.1 200OK\"" },
        { ["HTTP/1.1 200 OK\nServer: x\r\n\r\n"], "invalid HTTP response head: bare LF line ending" },
        { ["HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"], "invalid HTTP response head: Content-Length with Transfer-Encoding" },
        { ["HTTP/1.1 200 OK\r\n Folded: x\r\n\r\n"], "invalid HTTP response head: obsolete line folding" },
        { ["HTTP/1.1 200 OK\r\nContent-Le"], "the server closed the connection before the end of the response head" },
        { [], "the server closed the connection without answering" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task InvalidAnswers_FailWithAClearReason(string[] pieces, string reason)
    {
        (HealthProbeResult result, _) = await ProbeAsync(closeAtEnd: true, pieces);

        Assert.False(result.IsAnswered);
        Assert.Equal(0, result.Status);
        Assert.Equal(reason, result.Failure);
    }

    [Theory]
    [InlineData("SSH-2.0-OpenSSH_9.6\r\n", "not an HTTP response: \"SSH-2.0-OpenSSH_9.6\"")]
    [InlineData("HTTP/2 200\r\n", "not an HTTP response: \"HTTP/2 200\"")]
    [InlineData("\0\0\u0008\u0007\0\0\0\0\0", "not an HTTP response: \"\\x00\\x00\\x08\\x07\\x00\\x00\\x00\\x00\\x00\"")]
    public async Task BytesThatCannotStartAStatusLine_FailAtOnce_WithoutWaitingForTheEndOfAHead(string answer, string reason)
    {
        // The server then says nothing more and keeps the connection open: only an early refusal ends the probe.
        (HealthProbeResult result, ScriptedTransport transport) = await ProbeAsync(closeAtEnd: false, answer);

        Assert.Equal(reason, result.Failure);
        Assert.Equal(1, transport.Reads);
    }

    [Theory]
    [InlineData("/a b", "app.test", "the check path \"/a b\" is not a request target (a path starting with '/', visible ASCII only, no '#')")]
    [InlineData("/health", "app\r\nX-Injected: 1", "the check host \"app\r\nX-Injected: 1\" is not a valid Host")]
    public async Task ValuesThatCannotGoOnTheWire_AreRefusedBeforeAnythingIsSent(string path, string host, string reason)
    {
        var transport = new ScriptedTransport(true);
        HealthProbeResult result = await new HttpHealthProbe().ProbeAsync(new HealthProbeRequest(path, host, "PluginProxy-check"), new ScriptedConnection(transport), default);

        Assert.Equal(reason, result.Failure);
        Assert.Equal("", transport.Sent);
    }

    /// <summary>Hands out one scripted piece per read; then the end (0), or nothing until cancelled.</summary>
    private sealed class ScriptedTransport(bool closeAtEnd, params string[] pieces) : Transport
    {
        private readonly Queue<byte[]> _pieces = new(pieces.Select(Encoding.Latin1.GetBytes));
        private readonly StringBuilder _sent = new();

        public string Sent => _sent.ToString();

        public int Reads { get; private set; }

        public override async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_pieces.TryDequeue(out byte[]? piece))
            {
                Assert.True(piece.Length <= buffer.Length, "a piece larger than the read buffer");
                piece.CopyTo(buffer);
                Reads++;
                return piece.Length;
            }

            if (!closeAtEnd)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            return 0;
        }

        public override ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        {
            _sent.Append(Encoding.Latin1.GetString(data.Span));
            return ValueTask.CompletedTask;
        }

        public override ValueTask WaitForDataAsync(CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public override ValueTask ShutdownSendAsync() => ValueTask.CompletedTask;

        public override void Dispose()
        {
        }
    }

    private sealed class ScriptedConnection(Transport transport) : ServerConnection(transport, new Http1Server())
    {
        public override void Dispose() => Transport.Dispose();
    }

    private sealed class Http1Server : IServer
    {
        public string Name => "origin";

        public IBackend Backend => throw new NotSupportedException();

        public IPEndPoint Address { get; } = new(IPAddress.Loopback, 9);

        public int Weight => 1;

        public bool IsUp => true;

        public int ActiveConnections => 0;
    }
}
