using System.Text;
using PluginProxy.Abstractions;
using PluginProxy.TestKit;

namespace PluginProxy.Tests.TestKit;

/// <summary>The test kit itself: the supervisors run in memory and behave as they do over sockets.</summary>
public class TestKitTests
{
    private sealed class Throws : IFlowAnalyzer
    {
        public ValueTask<AnalyzerVerdict> AnalyzeAsync(ProxyStream stream, Channel channel, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("boom");
    }

    private sealed class AddsRequestHeader : IFlowAnalyzer
    {
        public ValueTask<AnalyzerVerdict> AnalyzeAsync(ProxyStream stream, Channel channel, CancellationToken cancellationToken)
        {
            stream.Http!.Request.Headers.Set("X-Seen", "yes");
            return ValueTask.FromResult(AnalyzerVerdict.Continue);
        }
    }

    [Fact]
    public async Task ARequestHeaderSetByAnAnalyzer_ReachesTheServer_AndAChunkedReplyReachesTheClient()
    {
        var chunked = ServerReply.Raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");

        HttpTestResult result = await HttpTest.RunAsync([new AddsRequestHeader()], HttpTest.Get("/x?y=1"), chunked);

        Assert.Equal("yes", result.ServerRequest!.Headers["X-Seen"]);
        Assert.Equal("/x?y=1", result.ServerRequest.Target);
        Assert.Equal("hello world", result.Response.BodyText);
        Assert.Single(result.AccessLog);
    }

    [Fact]
    public async Task AnAnalyzerThatThrows_Gets500_AndIsLogged()
    {
        HttpTestResult result = await HttpTest.RunAsync([new Throws()], HttpTest.Get());

        Assert.Equal(500, result.Response.Status);
        Assert.Null(result.ServerRequest);
        Assert.Contains(result.SupervisorLog, l => l.Exception is InvalidOperationException);
    }

    [Fact]
    public async Task AServerThatRefuses_Gets503()
    {
        var test = new HttpTest { Server = new ScriptedServer { RefuseWith = SessionTermination.ServerRefused } };

        HttpTestResult result = await test.RunAsync(HttpTest.Get());

        Assert.Equal(503, result.Response.Status);
    }

    [Fact]
    public async Task RequestsWithBodies_AndSeveralReplies_GoInOrderOnOneConnection()
    {
        var test = new HttpTest { Server = new ScriptedServer(ServerReply.Ok("first"), ServerReply.Status(404, "second")) };

        HttpTestResult result = await test.RunAsync(
            "POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc",
            HttpTest.Get("/b"),
            HttpTest.Get("/c"));

        Assert.Equal([200, 404, 404], result.Responses.Select(r => r.Status));
        Assert.Equal("abc", result.ServerRequest!.BodyText);
        Assert.Equal(1, test.Server.Connections);
    }

    [Fact]
    public async Task TheTcpSupervisor_RelaysBothWays()
    {
        TcpTestResult result = await TcpTest.RunAsync([], Encoding.ASCII.GetBytes("ping"), ServerReply.Raw("pong"));

        Assert.Equal("ping", Encoding.ASCII.GetString(result.ServerReceived!));
        Assert.Equal("pong", Encoding.ASCII.GetString(result.ClientReceived));
    }

    [Fact]
    public async Task InMemoryTransports_HaveNoSocket_AndEndLikeOne()
    {
        (InMemoryTransport a, InMemoryTransport b) = InMemoryTransport.CreatePair();
        Assert.False(a.HasSocket);
        Assert.Throws<NotSupportedException>(() => a.Socket);

        await a.SendAsync("hi");
        await a.ShutdownSendAsync();
        Assert.Equal("hi", Encoding.ASCII.GetString(await b.ReadToEndAsync()));

        b.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await b.ReceiveAsync(new byte[1]));
        Assert.Equal(0, await a.ReceiveAsync(new byte[1]));
    }
}
