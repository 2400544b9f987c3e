using System.Buffers;

namespace PluginProxy.Abstractions.Http;

/// <summary>
/// Transforms a response body as it is relayed to the client (compresses it, say), block by block, without holding the
/// whole of it. A response analyzer installs one on the stream after seeing the response head
/// (<see cref="HttpExchange.SetResponseBodyFilter"/>); the http supervisor then runs every data block of the body
/// through it, in order, and sends what it writes instead of the server's bytes.
/// </summary>
/// <remarks>
/// <para>With a filter installed the body's length is unknown in advance: the supervisor drops <c>Content-Length</c> and
/// frames the output itself (chunked coding to an HTTP/1.1 client, the connection's close to an HTTP/1.0 one, DATA
/// frames to an HTTP/2 one). Trailers still follow the body. The head is the analyzer's to change (<c>Content-Encoding</c>,
/// <c>Vary</c>, a weakened <c>ETag</c>): the supervisor changes only the framing fields.</para>
/// <para>Calls, from one task at a time: <see cref="Write"/> for each data block as it arrives (none for an empty body),
/// <see cref="Flush"/> whenever the supervisor has passed on all it received and is about to wait for more (so that a
/// slow stream is not held back: write out what the client may have now), <see cref="Complete"/> once at the end of the
/// body, and <see cref="IDisposable.Dispose"/> once whatever happened (the stream may end before the body did, or the
/// filter may never be used: a later analyzer replied instead). A response without a body (HEAD, 204, 304) gets no call
/// but <see cref="IDisposable.Dispose"/>, and its head keeps the fields the analyzer set.</para>
/// <para>An exception ends the stream (with a 500 while nothing was sent yet, else by closing the connection).</para>
/// <para>Installed by an analyzer of <c>after_response_analyzers</c> on a reply the proxy makes itself (a script's
/// <c>Respond</c>), the filter gets that reply's whole body in one <see cref="Write"/>, then <see cref="Complete"/>; if it
/// throws, the reply goes out as it was before the after-response analyzers ran.</para>
/// </remarks>
public interface IResponseBodyFilter : IDisposable
{
    /// <summary>Takes the next data block of the body; may write output (or keep it for later).</summary>
    /// <param name="data">The block, valid during the call only.</param>
    /// <param name="output">Where the transformed bytes go; the supervisor sends them after the call.</param>
    void Write(ReadOnlySpan<byte> data, IBufferWriter<byte> output);

    /// <summary>Writes out whatever the client should get now of the data seen so far.</summary>
    /// <param name="output">Where the transformed bytes go.</param>
    void Flush(IBufferWriter<byte> output);

    /// <summary>The body ended: writes the rest of the output (a compressed stream's end).</summary>
    /// <param name="output">Where the transformed bytes go.</param>
    void Complete(IBufferWriter<byte> output);
}
