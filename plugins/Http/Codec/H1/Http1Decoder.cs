using System.Buffers;
using System.Text;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;

namespace PluginProxy.Http.Codec.H1;

/// <summary>What decoding a head from a channel came to.</summary>
internal enum DecodeStatus
{
    /// <summary>The head is complete: the message holds it.</summary>
    Decoded,

    /// <summary>More bytes are needed (the channel is neither full nor ended).</summary>
    NeedMore,

    /// <summary>The head is invalid, too large, or the peer closed before its end: see the error.</summary>
    Failed,
}

/// <summary>
/// The HTTP/1.1 codec's reading side: turns a head received in a channel into the version-independent message
/// (<see cref="HttpRequestHead"/>, <see cref="HttpResponseHead"/>). The head stays a view over a copy of the received
/// bytes, so a request nobody rewrites allocates nothing. Framing facts (chunked coding, <c>Connection</c>, upgrades)
/// stay in the facts, for the codec's writing side and the body framer.
/// </summary>
internal static class Http1Decoder
{
    /// <summary>
    /// Decodes the request head held by <paramref name="channel"/> into <paramref name="request"/>; the target is
    /// normalised (origin form) for everything downstream, the received one stays in <paramref name="headCopy"/>.
    /// </summary>
    public static DecodeStatus DecodeRequest(Channel channel, RequestFacts facts, ref byte[] headCopy, HttpRequestHead request, bool tls, out HttpParseError error)
    {
        ReadOnlySpan<byte> data = channel.Data.Span;
        switch (HeadParser.ParseRequest(data, facts, out error))
        {
            case ParseStatus.Incomplete:
                if (channel.IsFull)
                {
                    error = facts.FirstLineComplete ? HttpParseError.HeadTooLarge : HttpParseError.UriTooLong;
                    return DecodeStatus.Failed;
                }

                if (channel.InputEnded)
                {
                    error = HttpParseError.Truncated;
                    return DecodeStatus.Failed;
                }

                return DecodeStatus.NeedMore;
            case ParseStatus.Error:
                return DecodeStatus.Failed;
        }

        CopyHead(ref headCopy, data[..facts.HeadLength], facts.ForwardedTargetRoom);
        byte[] head = headCopy;
        Range target = facts.PlaceForwardedTarget(head);
        long? length = facts.ContentLength >= 0 ? facts.ContentLength : null;
        request.Reset(head, facts.Method, target, facts.Version, facts.Chunked ? null : length, hasBody: facts.Chunked || facts.ContentLength > 0, tls);
        CopyRequestHeaders(request, facts, head);
        return DecodeStatus.Decoded;
    }

    /// <summary>Decodes the response head held by <paramref name="channel"/> (an interim 1xx one included) into <paramref name="response"/>.</summary>
    public static DecodeStatus DecodeResponse(Channel channel, ResponseFacts facts, ref byte[] headCopy, HttpResponseHead response, out HttpParseError error)
    {
        ReadOnlySpan<byte> data = channel.Data.Span;
        switch (HeadParser.ParseResponse(data, facts, out error))
        {
            case ParseStatus.Incomplete:
                if (channel.IsFull || channel.InputEnded)
                {
                    error = channel.IsFull ? HttpParseError.HeadTooLarge : HttpParseError.Truncated;
                    return DecodeStatus.Failed;
                }

                return DecodeStatus.NeedMore;
            case ParseStatus.Error:
                return DecodeStatus.Failed;
        }

        CopyHead(ref headCopy, data[..facts.HeadLength]);
        response.Reset(headCopy, facts.Status, facts.Reason, facts.Version, facts.Chunked || facts.ContentLength < 0 ? null : facts.ContentLength);
        facts.CopyHeadersTo(response.Headers);
        return DecodeStatus.Decoded;
    }

    /// <summary>
    /// Gives the fields to the message. For an absolute-form target, Host becomes the target's authority (RFC 9112
    /// §3.2.2: a proxy generates Host from the target, whatever Host said), in its place, so routes, analyzers,
    /// X-Forwarded-Host and the server all see that authority; an HTTP/1.0 request without Host gets one.
    /// </summary>
    private static void CopyRequestHeaders(HttpRequestHead request, RequestFacts facts, byte[] head)
    {
        if (!facts.AbsoluteForm)
        {
            facts.CopyHeadersTo(request.Headers);
            return;
        }

        facts.CopyHeadersTo(request.Headers, facts.HostIndex, facts.Authority);
        if (facts.HostIndex < 0)
        {
            // Only HTTP/1.0 gets here (HTTP/1.1 without Host is refused): rare enough to make a string.
            request.Headers.Add("Host", Encoding.ASCII.GetString(head.AsSpan(facts.Authority)));
        }
    }

    /// <summary>
    /// Copies <paramref name="head"/> into <paramref name="buffer"/>, growing it from the pool as needed, with at least
    /// <paramref name="room"/> bytes free after it.
    /// </summary>
    private static void CopyHead(ref byte[] buffer, ReadOnlySpan<byte> head, int room = 0)
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
}
