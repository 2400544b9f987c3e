using System.Text;
using Grpc.Core;
using Grpc.Net.Client;
using PluginProxy.Tests.Grpc.Contract;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Grpc;

/// <summary>
/// The gRPC calls of the tests, each with its assertions, against whatever a channel reaches: a <see cref="GrpcOrigin"/>
/// directly, or the same origin through the proxy (pass a channel to the proxy's listener instead). Calls that check
/// what the server saw take the origin's <see cref="EchoObservations"/>. Every call has a deadline or a bounded wait, so a call that
/// hangs fails the test instead of hanging it.
/// </summary>
internal static class GrpcCalls
{
    private static DateTime Deadline => DateTime.UtcNow + Wait.DefaultDeadline;

    /// <summary>A unary call that the server answers (after <paramref name="delayMs"/>) with the message and number it got.</summary>
    public static async Task UnaryAsync(GrpcChannel channel, string message = "hello", int delayMs = 0)
    {
        var client = new Echo.EchoClient(channel);
        var call = client.UnaryAsync(new EchoRequest { Message = message, Number = 42, DelayMs = delayMs }, deadline: Deadline);
        EchoReply reply = await call;
        Assert.Equal(message, reply.Message);
        Assert.Equal(42, reply.Number);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    /// <summary>A unary call that the server fails with <paramref name="code"/>: the client sees that status and its detail.</summary>
    public static async Task UnaryFailsAsync(GrpcChannel channel, StatusCode code)
    {
        var client = new Echo.EchoClient(channel);
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.UnaryAsync(new EchoRequest { Message = "fail", FailWith = (int)code }, deadline: Deadline));
        Assert.Equal(code, error.StatusCode);
        Assert.Equal($"asked to fail with {code}", error.Status.Detail);
    }

    /// <summary>A server-streaming call: <paramref name="count"/> replies in order, each with <paramref name="payloadBytes"/> bytes of payload, then OK.</summary>
    public static async Task ServerStreamAsync(GrpcChannel channel, int count = 5, int payloadBytes = 0)
    {
        var client = new Echo.EchoClient(channel);
        using var call = client.ServerStream(new StreamRequest { Message = "s", Count = count, PayloadBytes = payloadBytes }, deadline: Deadline);
        int received = 0;
        await foreach (EchoReply reply in call.ResponseStream.ReadAllAsync())
        {
            Assert.Equal($"s#{received}", reply.Message);
            Assert.Equal(received, reply.Number);
            Assert.True(reply.Payload.Span.SequenceEqual(EchoService.Payload(payloadBytes, received)), $"payload of reply {received} differs");
            received++;
        }

        Assert.Equal(count, received);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    /// <summary>A client-streaming call: <paramref name="count"/> messages (numbers 1..count), answered with their count, sum and concatenation.</summary>
    public static async Task ClientStreamAsync(GrpcChannel channel, int count = 5)
    {
        var client = new Echo.EchoClient(channel);
        using var call = client.ClientStream(deadline: Deadline);
        var expected = new StringBuilder();
        for (int i = 1; i <= count; i++)
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Message = $"m{i};", Number = i });
            expected.Append($"m{i};");
        }

        await call.RequestStream.CompleteAsync();
        SumReply reply = await call;
        Assert.Equal(count, reply.Count);
        Assert.Equal((long)count * (count + 1) / 2, reply.Sum);
        Assert.Equal(expected.ToString(), reply.Concatenated);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    /// <summary>
    /// A bidirectional call in lock step: each message's echo must arrive before the next message is sent (so neither
    /// direction may be held back until the other ends), then the client ends its side and the server ends with OK.
    /// </summary>
    public static async Task DuplexAsync(GrpcChannel channel, int count = 5)
    {
        var client = new Echo.EchoClient(channel);
        using var call = client.Duplex(deadline: Deadline);
        for (int i = 0; i < count; i++)
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Message = $"d{i}", Number = i });
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).WithDeadline($"the echo of message {i}"),
                $"the response stream ended before the echo of message {i}");
            Assert.Equal($"d{i}", call.ResponseStream.Current.Message);
            Assert.Equal(i, call.ResponseStream.Current.Number);
        }

        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None).WithDeadline("the end of the response stream"));
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    /// <summary>
    /// A unary call whose response carries a custom header and custom trailers (text and binary) besides the status:
    /// the client sees each, and the status OK that the grpc-status trailer carried.
    /// </summary>
    public static async Task TrailersAsync(GrpcChannel channel, string message = "trailer-value")
    {
        var client = new Echo.EchoClient(channel);
        using var call = client.WithTrailersAsync(new EchoRequest { Message = message }, deadline: Deadline);
        Metadata headers = await call.ResponseHeadersAsync;
        Assert.Equal("header:" + message, headers.GetValue(EchoService.HeaderKey));
        EchoReply reply = await call;
        Assert.Equal(message, reply.Message);
        Status status = call.GetStatus();
        Assert.Equal(StatusCode.OK, status.StatusCode);
        Metadata trailers = call.GetTrailers();
        Assert.Equal(message, trailers.GetValue(EchoService.TrailerKey));
        byte[] reversed = Encoding.UTF8.GetBytes(message);
        Array.Reverse(reversed);
        Assert.Equal(reversed, trailers.GetValueBytes(EchoService.BinaryTrailerKey));
    }

    /// <summary>
    /// A call that the server never answers, with a deadline of <paramref name="deadline"/> (one second unless given):
    /// the client gets DeadlineExceeded, and the server observes the call cancelled (from the client's reset of the
    /// stream or from its own timer, started by the grpc-timeout header: either suffices). A unary call goes first, so that the
    /// connection is up and the code paths warm when the deadline starts to run (a deadline that expires before the
    /// call is sent ends it in the client alone, and the server never sees it).
    /// </summary>
    public static async Task DeadlineExceededAsync(GrpcChannel channel, EchoObservations server, TimeSpan? deadline = null)
    {
        await UnaryAsync(channel, "warm-up");
        var client = new Echo.EchoClient(channel);
        string tag = "deadline-" + Guid.NewGuid().ToString("N");
        DateTime expires = DateTime.UtcNow + (deadline ?? TimeSpan.FromSeconds(1));
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.WaitForCancelAsync(new EchoRequest { Tag = tag }, deadline: expires).ResponseAsync.WithDeadline("the deadline to expire"));
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        await server.WaitForStartAsync(tag);
        await server.WaitForCancellationAsync(tag);
    }

    /// <summary>
    /// A call that the server never answers, cancelled by the client once the server has it: the client gets Cancelled,
    /// and the server observes the call cancelled. The call has no deadline (the waits around it have), so the server
    /// can only learn of the cancellation from the client's reset of the stream, never from a timeout of its own.
    /// </summary>
    public static async Task ClientCancellationAsync(GrpcChannel channel, EchoObservations server)
    {
        var client = new Echo.EchoClient(channel);
        string tag = "cancel-" + Guid.NewGuid().ToString("N");
        using var cancel = new CancellationTokenSource();
        using var call = client.WaitForCancelAsync(new EchoRequest { Tag = tag }, cancellationToken: cancel.Token);
        await server.WaitForStartAsync(tag);
        Assert.False(server.WasCancelled(tag));
        await cancel.CancelAsync();
        var error = await Assert.ThrowsAsync<RpcException>(async () => await call.ResponseAsync.WithDeadline("the cancelled call to end"));
        Assert.Equal(StatusCode.Cancelled, error.StatusCode);
        await server.WaitForCancellationAsync(tag);
    }

    /// <summary>A unary call to a channel whose address has no gRPC server behind it: the client gets Unavailable.</summary>
    public static async Task UnavailableAsync(GrpcChannel channel)
    {
        var client = new Echo.EchoClient(channel);
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.UnaryAsync(new EchoRequest { Message = "nobody" }, deadline: Deadline).ResponseAsync.WithDeadline("the call to fail"));
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
    }
}
