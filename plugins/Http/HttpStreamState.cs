using System.Buffers;
using PluginProxy.Abstractions.Http;
using PluginProxy.Http.Parsing;
using PluginProxy.Http.Routing;

namespace PluginProxy.Http;

/// <summary>
/// The working state of one HTTP stream that the supervisor shares with http_lb_req and http_lb_resp (through
/// <see cref="Abstractions.ProxyStream.SupervisorState"/>): parse results, the copies of both heads, errors.
/// A connection holds one only while a stream runs; idle connections give it back to the pool.
/// </summary>
internal sealed class HttpStreamState
{
    public readonly RequestFacts RequestFacts = new();
    public readonly ResponseFacts ResponseFacts = new();
    public readonly HttpExchange Exchange = new();

    /// <summary>The request head bytes, copied out of the request channel so they outlive it.</summary>
    public byte[] RequestHead = [];

    /// <summary>The response head bytes.</summary>
    public byte[] ResponseHead = [];

    public HttpParseError RequestError;
    public HttpParseError ResponseError;

    /// <summary>The listener's routes (set by the supervisor for http_lb_req).</summary>
    public RouteTable? Routes;

    /// <summary>The largest request body accepted, or -1.</summary>
    public long MaxRequestBody = -1;

    /// <summary>What goes to the server (the request head and the first body bytes) and to the client.</summary>
    public readonly Forwarding.OutputBuffer ServerOut = new();
    public readonly Forwarding.OutputBuffer ClientOut = new();

    /// <summary>The analyzers that asked to be bypassed for the rest of the current message.</summary>
    public bool[] Bypassed = new bool[8];

    public Forwarding.BodyFramer RequestBody;
    public Forwarding.BodyFramer ResponseBody;

    public void BeginStream()
    {
        RequestFacts.Reset();
        ResponseFacts.Reset();
        RequestError = HttpParseError.None;
        ResponseError = HttpParseError.None;
        Exchange.HasRequest = false;
        Exchange.HasResponse = false;
    }

    public void BeginResponse()
    {
        ResponseFacts.Reset();
        ResponseError = HttpParseError.None;
        Exchange.HasResponse = false;
    }

    /// <summary>The request-target as the client sent it (the access log shows this one).</summary>
    public ReadOnlySpan<byte> ReceivedTarget => RequestHead.AsSpan(RequestFacts.Target);

    /// <summary>
    /// Copies <paramref name="head"/> into <paramref name="buffer"/>, growing it from the pool as needed, with at least
    /// <paramref name="room"/> bytes free after it.
    /// </summary>
    public static void CopyHead(ref byte[] buffer, ReadOnlySpan<byte> head, int room = 0)
    {
        if (buffer.Length < head.Length + room)
        {
            if (buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            buffer = ArrayPool<byte>.Shared.Rent(Math.Max(head.Length + room, 1024));
        }

        head.CopyTo(buffer);
    }

    /// <summary>Gives the head and output buffers back to the pool.</summary>
    public void ReleaseBuffers()
    {
        ServerOut.Release();
        ClientOut.Release();
        if (RequestHead.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(RequestHead);
            RequestHead = [];
        }

        if (ResponseHead.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(ResponseHead);
            ResponseHead = [];
        }
    }
}
