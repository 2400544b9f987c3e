using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using PluginProxy.Tests.Grpc.Contract;

namespace PluginProxy.Tests.Grpc;

/// <summary>
/// The test service that <see cref="GrpcOrigin"/> serves (see <c>echo.proto</c>): every gRPC call kind, a call with custom
/// response headers and trailers, and a call that only ends when cancelled. Records what it sees in the origin's
/// <see cref="EchoObservations"/>.
/// </summary>
internal sealed class EchoService(EchoObservations observations) : Contract.Echo.EchoBase
{
    /// <summary>The response header that <c>WithTrailers</c> sends: <c>header:</c> and the request's message.</summary>
    public const string HeaderKey = "x-echo-header";

    /// <summary>The custom response trailer that <c>WithTrailers</c> sends: the request's message.</summary>
    public const string TrailerKey = "x-echo-trailer";

    /// <summary>The binary response trailer that <c>WithTrailers</c> sends: the UTF-8 bytes of the request's message, reversed.</summary>
    public const string BinaryTrailerKey = "x-echo-trailer-bin";

    public override async Task<EchoReply> Unary(EchoRequest request, ServerCallContext context)
    {
        Observe(context);
        if (request.DelayMs > 0)
        {
            await Task.Delay(request.DelayMs, context.CancellationToken);
        }

        if (request.FailWith != 0)
        {
            var code = (StatusCode)request.FailWith;
            throw new RpcException(new Status(code, $"asked to fail with {code}"));
        }

        return new EchoReply { Message = request.Message, Number = request.Number };
    }

    public override async Task ServerStream(StreamRequest request, IServerStreamWriter<EchoReply> responseStream, ServerCallContext context)
    {
        Observe(context);
        for (int i = 0; i < request.Count; i++)
        {
            await responseStream.WriteAsync(new EchoReply
            {
                Message = $"{request.Message}#{i}",
                Number = i,
                Payload = ByteString.CopyFrom(Payload(request.PayloadBytes, i)),
            }, context.CancellationToken);
        }
    }

    public override async Task<SumReply> ClientStream(IAsyncStreamReader<EchoRequest> requestStream, ServerCallContext context)
    {
        Observe(context);
        var reply = new SumReply();
        var text = new System.Text.StringBuilder();
        await foreach (EchoRequest request in requestStream.ReadAllAsync(context.CancellationToken))
        {
            reply.Count++;
            reply.Sum += request.Number;
            text.Append(request.Message);
        }

        reply.Concatenated = text.ToString();
        return reply;
    }

    public override async Task Duplex(IAsyncStreamReader<EchoRequest> requestStream, IServerStreamWriter<EchoReply> responseStream, ServerCallContext context)
    {
        Observe(context);
        await foreach (EchoRequest request in requestStream.ReadAllAsync(context.CancellationToken))
        {
            await responseStream.WriteAsync(new EchoReply { Message = request.Message, Number = request.Number }, context.CancellationToken);
        }
    }

    public override async Task<EchoReply> WithTrailers(EchoRequest request, ServerCallContext context)
    {
        Observe(context);
        await context.WriteResponseHeadersAsync(new Metadata { { HeaderKey, "header:" + request.Message } });
        byte[] reversed = System.Text.Encoding.UTF8.GetBytes(request.Message);
        Array.Reverse(reversed);
        context.ResponseTrailers.Add(TrailerKey, request.Message);
        context.ResponseTrailers.Add(BinaryTrailerKey, reversed);
        return new EchoReply { Message = request.Message, Number = request.Number };
    }

    public override async Task<EchoReply> WaitForCancel(EchoRequest request, ServerCallContext context)
    {
        Observe(context);
        observations.Started(request.Tag);
        try
        {
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
        }
        catch (OperationCanceledException)
        {
            observations.Cancelled(request.Tag);
            throw new RpcException(new Status(StatusCode.Cancelled, "the call was cancelled"));
        }

        throw new InvalidOperationException("an infinite wait ended without cancellation");
    }

    /// <summary>The payload of server-streamed reply <paramref name="index"/>: <paramref name="length"/> bytes of a pattern that depends on the index.</summary>
    public static byte[] Payload(int length, int index)
    {
        var bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            bytes[i] = (byte)((i + index) % 251);
        }

        return bytes;
    }

    private void Observe(ServerCallContext context)
    {
        HttpContext http = context.GetHttpContext();
        var headers = http.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        observations.Record(new ObservedCall(context.Method, http.Request.Protocol, http.Request.Scheme, headers)
        {
            Peer = $"{http.Connection.RemoteIpAddress}:{http.Connection.RemotePort}",
        });
    }
}
