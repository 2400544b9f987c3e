using Grpc.Core;
using Grpc.Net.Client;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Grpc;

/// <summary>
/// gRPC through the proxy, HTTP/2 on both sides: a Grpc.Net.Client client on an http listener (h2c), the Grpc.AspNetCore
/// origin as a <c>proto = "h2"</c> server (h2c, or TLS with ALPN h2). The same calls as <see cref="GrpcOriginTests"/>
/// make against the origin directly, so a difference is the proxy's.
/// </summary>
public class GrpcProxyTests
{
    private static string Config(string server, string access = "") => HttpConfig.For(server).Replace(
        $"servers = [{{ name = \"origin\", address = \"{server}\" }}]",
        $"servers = [{{ name = \"origin\", address = \"{server}\", proto = \"h2\"{access} }}]");

    private static async Task ThroughProxy(bool tlsToServer, Func<GrpcOrigin, GrpcChannel, RunningProxy, Task> test)
    {
        await using GrpcOrigin origin = tlsToServer ? await GrpcOrigin.StartWithTlsAsync() : await GrpcOrigin.StartAsync();
        string config = tlsToServer ? Config(origin.TlsAddress, ", tls = true, verify = \"none\"") : Config(origin.Address);
        await using RunningProxy proxy = await RunningProxy.StartAsync(config);
        using GrpcChannel channel = GrpcClients.CreateChannel($"127.0.0.1:{proxy.EndPoint().Port}");
        try
        {
            await test(origin, channel, proxy);
        }
        catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
        {
            throw new InvalidOperationException($"{ex.Message}\naccess log:\n{string.Join("\n", proxy.AccessLog.Lines)}\nlog:\n{proxy.Logs.Dump()}", ex);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public Task Unary(bool tls) => ThroughProxy(tls, async (origin, channel, proxy) =>
    {
        await GrpcCalls.UnaryAsync(channel);
        Assert.EndsWith(".Echo/Unary HTTP/2.0\"", await proxy.AccessLog.WaitForAsync(l => l.Contains("Unary"), "the call's log line"));
        Assert.Equal("HTTP/2", origin.Observations.Calls.Single().Protocol);
    });

    [Theory]
    [InlineData(StatusCode.NotFound)]
    [InlineData(StatusCode.ResourceExhausted)]
    public Task Unary_AFailureStatus_ReachesTheClient(StatusCode code) => ThroughProxy(false, (_, channel, _) => GrpcCalls.UnaryFailsAsync(channel, code));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public Task ServerStreaming(bool tls) => ThroughProxy(tls, (_, channel, _) => GrpcCalls.ServerStreamAsync(channel, count: 10));

    [Fact]
    public Task ServerStreaming_OfMoreThanTheFlowControlWindows() => ThroughProxy(false, (_, channel, _) => GrpcCalls.ServerStreamAsync(channel, count: 40, payloadBytes: 20_000));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public Task ClientStreaming(bool tls) => ThroughProxy(tls, (_, channel, _) => GrpcCalls.ClientStreamAsync(channel, count: 10));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public Task BidirectionalStreaming_EchoesEachMessageAsItArrives(bool tls) => ThroughProxy(tls, (_, channel, _) => GrpcCalls.DuplexAsync(channel, count: 10));

    [Fact]
    public Task Trailers_TheStatusAndCustomOnes_AreKept() => ThroughProxy(false, (_, channel, _) => GrpcCalls.TrailersAsync(channel));

    [Fact]
    public Task ADeadline_Expires_AndTheServerSeesTheCancellation() =>
        ThroughProxy(false, (origin, channel, _) => GrpcCalls.DeadlineExceededAsync(channel, origin.Observations));

    [Fact]
    public Task AClientCancellation_ReachesTheServerAsAReset() =>
        ThroughProxy(false, (origin, channel, _) => GrpcCalls.ClientCancellationAsync(channel, origin.Observations));

    [Fact]
    public async Task ADeadServer_GivesUnavailable_NotABrokenStream()
    {
        using var dead = new DeadPort();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(dead.Address));
        using GrpcChannel channel = GrpcClients.CreateChannel($"127.0.0.1:{proxy.EndPoint().Port}");

        await GrpcCalls.UnavailableAsync(channel);
    }

    [Fact]
    public Task ManyConcurrentCalls_ShareFewServerConnections() => ThroughProxy(false, async (origin, channel, proxy) =>
    {
        await Task.WhenAll(Enumerable.Range(0, 50).Select(i => GrpcCalls.UnaryAsync(channel, $"m{i}")));

        Assert.Equal(50, origin.Observations.Calls.Count);
        Assert.InRange(origin.Observations.Calls.Select(c => c.Peer).Distinct().Count(), 1, 4);
    });
}
