using Grpc.Core;
using Grpc.Net.Client;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Grpc;

/// <summary>
/// The gRPC origin and client called directly, without the proxy: proves the calls of <see cref="GrpcCalls"/> hold
/// against a real server, so that the same calls through the proxy test the proxy alone. Over h2c, and over TLS
/// (ALPN h2) where the call kind is at stake.
/// </summary>
public class GrpcOriginTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public Task Unary_ReturnsTheMessage(bool tls) => WithOrigin(tls, (_, channel) => GrpcCalls.UnaryAsync(channel));

    [Fact]
    public Task Unary_ThatSleepsFirst_StillAnswers() => WithOrigin(false, (_, channel) => GrpcCalls.UnaryAsync(channel, "slow", delayMs: 50));

    [Theory]
    [InlineData(StatusCode.NotFound)]
    [InlineData(StatusCode.PermissionDenied)]
    [InlineData(StatusCode.ResourceExhausted)]
    public Task Unary_FailsWithTheStatusAsked(StatusCode code) => WithOrigin(false, (_, channel) => GrpcCalls.UnaryFailsAsync(channel, code));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public Task ServerStream_RepliesInOrder(bool tls) => WithOrigin(tls, (_, channel) => GrpcCalls.ServerStreamAsync(channel, count: 10));

    [Fact]
    public Task ServerStream_OfMoreThanAFlowControlWindow_ArrivesWhole()
        => WithOrigin(false, (_, channel) => GrpcCalls.ServerStreamAsync(channel, count: 40, payloadBytes: 20_000));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public Task ClientStream_SumsWhatItGot(bool tls) => WithOrigin(tls, (_, channel) => GrpcCalls.ClientStreamAsync(channel, count: 10));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public Task Duplex_EchoesEachMessageAsItArrives(bool tls) => WithOrigin(tls, (_, channel) => GrpcCalls.DuplexAsync(channel, count: 10));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public Task Trailers_CustomOnesAndTheStatus_ReachTheClient(bool tls) => WithOrigin(tls, (_, channel) => GrpcCalls.TrailersAsync(channel));

    [Fact]
    public Task Deadline_Expires_ClientGetsDeadlineExceeded_AndServerObservesCancellation()
        => WithOrigin(false, (origin, channel) => GrpcCalls.DeadlineExceededAsync(channel, origin.Observations));

    [Fact]
    public Task ClientCancels_ServerObservesCancellation()
        => WithOrigin(false, (origin, channel) => GrpcCalls.ClientCancellationAsync(channel, origin.Observations));

    [Fact]
    public async Task PortWhereNothingListens_GivesUnavailable()
    {
        using var dead = new DeadPort();
        using GrpcChannel channel = GrpcClients.CreateChannel(dead.Address);
        await GrpcCalls.UnavailableAsync(channel);
    }

    [Fact]
    public async Task StoppedOrigin_GivesUnavailable()
    {
        Uri address;
        await using (GrpcOrigin origin = await GrpcOrigin.StartAsync())
        {
            address = origin.Uri;
        }

        using GrpcChannel channel = GrpcClients.CreateChannel(address);
        await GrpcCalls.UnavailableAsync(channel);
    }

    [Theory]
    [InlineData(false, "http")]
    [InlineData(true, "https")]
    public Task Origin_SeesHttp2_AndTheScheme(bool tls, string scheme) => WithOrigin(tls, async (origin, channel) =>
    {
        await GrpcCalls.UnaryAsync(channel);
        ObservedCall call = Assert.Single(origin.Observations.Calls);
        Assert.Equal("/pluginproxy.tests.echo.Echo/Unary", call.Method);
        Assert.Equal("HTTP/2", call.Protocol);
        Assert.Equal(scheme, call.Scheme);
        Assert.Equal("application/grpc", call.Headers["content-type"]);
        Assert.Equal("trailers", call.Headers["te"]);
    });

    [Fact]
    public async Task Origins_StartedTogether_GetTheirOwnPorts()
    {
        await using GrpcOrigin first = await GrpcOrigin.StartWithTlsAsync();
        await using GrpcOrigin second = await GrpcOrigin.StartWithTlsAsync();
        int[] ports = [first.Port, first.TlsPort, second.Port, second.TlsPort];
        Assert.Equal(4, ports.Distinct().Count());
        Assert.Equal($"127.0.0.1:{first.Port}", first.Address);
        Assert.Equal(new Uri($"http://127.0.0.1:{first.Port}"), first.Uri);
        Assert.Equal(new Uri($"https://127.0.0.1:{first.TlsPort}"), first.TlsUri);
    }

    private static async Task WithOrigin(bool tls, Func<GrpcOrigin, GrpcChannel, Task> test)
    {
        await using GrpcOrigin origin = tls ? await GrpcOrigin.StartWithTlsAsync() : await GrpcOrigin.StartAsync();
        using GrpcChannel channel = tls ? origin.CreateTlsChannel() : origin.CreateChannel();
        await test(origin, channel);
    }
}
