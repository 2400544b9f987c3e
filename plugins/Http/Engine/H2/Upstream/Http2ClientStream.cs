using PluginProxy.Http.Codec.H2;

namespace PluginProxy.Http.Engine.H2.Upstream;

/// <summary>
/// One request stream to an HTTP/2 server, as <see cref="Http2ServerConnection.TryOpenStream"/> gives it. Write the
/// request head, then the body and trailers; read the response head, then the body and <see cref="ResponseTrailers"/>.
/// One writer and one reader at a time (they may run concurrently). Dispose it when done: a stream still open is reset
/// with CANCEL and its unread data given back to the connection window.
/// </summary>
/// <remarks>
/// The stream id is given when the request head goes out (under the connection's write lock), so ids reach the wire in
/// increasing order whatever order streams were opened in; <see cref="Id"/> is 0 until then. Interim (1xx) response
/// heads are skipped by <see cref="ReadResponseHeadAsync"/> and counted in <see cref="InterimResponses"/>.
/// </remarks>
internal sealed class Http2ClientStream : IDisposable
{
    private readonly Http2ServerConnection _connection;
    private readonly CancellationTokenSource _aborted = new();

    internal Http2ClientStream(Http2ServerConnection connection, int receiveCapacity)
    {
        _connection = connection;
        Buffer = new Http2ReceiveBuffer(receiveCapacity);
    }

    /// <summary>The stream id, 0 until the request head was sent.</summary>
    public int Id { get; internal set; }

    /// <summary>Fires when the stream is reset either way or its connection ended before the stream completed.</summary>
    public CancellationToken Aborted => _aborted.Token;

    /// <summary>
    /// True when the server did not process the request: RST_STREAM REFUSED_STREAM, a GOAWAY whose last stream id is
    /// below this stream's, or the connection ended before the head was sent. Such a request may be sent again on another
    /// connection.
    /// </summary>
    public bool WasRefused { get; internal set; }

    /// <summary>The RST_STREAM code (sent or received) or the connection error's code, once the stream was aborted.</summary>
    public Http2ErrorCode? ResetCode { get; internal set; }

    /// <summary>Why the stream was aborted, for the log; null while it is not.</summary>
    public string? AbortReason { get; internal set; }

    /// <summary>The number of interim (1xx) response heads skipped.</summary>
    public int InterimResponses { get; internal set; }

    /// <summary>The response trailers, once the response body ended with them; else null.</summary>
    public Http2UpstreamResponse? ResponseTrailers { get; internal set; }

    /// <summary>True once the whole response was received (END_STREAM).</summary>
    public bool ResponseEnded => RemoteEnded;

    internal Http2ReceiveBuffer Buffer { get; }

    internal long SendWindow { get; set; }

    internal int StreamCredit { get; set; }

    internal bool HeadSent { get; set; }

    internal bool LocalEnded { get; set; }

    internal bool RemoteEnded { get; set; }

    internal bool Closed { get; set; }

    internal bool IsAborted => AbortReason is not null;

    internal bool RequestDiscarded { get; set; }

    internal bool IsHeadRequest { get; set; }

    internal long? ExpectedLength { get; set; }

    internal long ReceivedLength { get; set; }

    internal Http2UpstreamResponse? Response { get; set; }

    internal bool FinalHeadReceived { get; set; }

    internal TaskCompletionSource? ReadSignal { get; set; }

    /// <summary>
    /// Sends the request head: the pseudo-fields <c>:method</c>, <c>:scheme</c>, <c>:authority</c> (left out when empty)
    /// and <c>:path</c>, then <paramref name="fields"/> with names lowercased, leaving out the connection-specific fields
    /// (<c>connection</c>, <c>keep-alive</c>, <c>proxy-connection</c>, <c>transfer-encoding</c>, <c>upgrade</c>, the
    /// fields <c>connection</c> names, <c>te</c> other than "trailers") and <c>host</c> (carried by <c>:authority</c>).
    /// </summary>
    /// <exception cref="ArgumentException">A name or value is invalid, or the head is above the server's SETTINGS_MAX_HEADER_LIST_SIZE.</exception>
    /// <exception cref="Http2StreamAbortedException">The connection cannot take the stream any more (see <see cref="Http2StreamAbortedException.WasRefused"/>).</exception>
    public ValueTask WriteRequestHeadAsync(string method, string scheme, string authority, string path,
        IEnumerable<KeyValuePair<string, string>>? fields, bool endStream, CancellationToken cancellationToken = default)
        => _connection.WriteRequestHeadAsync(this, Http2RequestFields.Build(method, scheme, authority, path, fields), endStream,
            method == "HEAD", cancellationToken);

    /// <summary>Sends request data within the server's windows and frame size (waits for WINDOW_UPDATE); an empty one with <paramref name="endStream"/> ends the request.</summary>
    public ValueTask WriteDataAsync(ReadOnlyMemory<byte> data, bool endStream, CancellationToken cancellationToken = default)
        => _connection.WriteDataAsync(this, data, endStream, cancellationToken);

    /// <summary>Ends the request with trailers (names lowercased; pseudo and connection-specific fields left out).</summary>
    public ValueTask WriteTrailersAsync(IEnumerable<KeyValuePair<string, string>> trailers, CancellationToken cancellationToken = default)
        => _connection.WriteTrailersAsync(this, Http2RequestFields.BuildTrailers(trailers), cancellationToken);

    /// <summary>Waits for the final response head (interim 1xx heads are skipped).</summary>
    /// <exception cref="Http2StreamAbortedException">The stream was reset or the connection ended first.</exception>
    public ValueTask<Http2UpstreamResponse> ReadResponseHeadAsync(CancellationToken cancellationToken = default)
        => _connection.ReadResponseHeadAsync(this, cancellationToken);

    /// <summary>Reads response data: the bytes read, 0 at the end. WINDOW_UPDATE frames go out as data is read.</summary>
    /// <exception cref="Http2StreamAbortedException">The stream was reset or the connection ended first.</exception>
    public ValueTask<int> ReadBodyAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        => _connection.ReadBodyAsync(this, buffer, cancellationToken);

    /// <summary>Resets the stream with <paramref name="code"/> (nothing is sent when it never started or already ended).</summary>
    public void Reset(Http2ErrorCode code) => _connection.ResetStream(this, code, "reset by the caller");

    /// <summary>Resets the stream with CANCEL when it is still open, and drops unread data.</summary>
    public void Dispose() => _connection.ReleaseStream(this);

    /// <summary>Fires <see cref="Aborted"/> (off the connection's lock).</summary>
    internal void FireAborted()
    {
        try
        {
            _aborted.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Wakes a reader waiting for a head or data (the caller holds the connection's lock).</summary>
    internal void SignalLocked()
    {
        ReadSignal?.TrySetResult();
        ReadSignal = null;
    }

    /// <summary>The exception readers and writers throw once the stream was aborted.</summary>
    internal Http2StreamAbortedException AbortedException()
        => new($"HTTP/2 stream {Id}: {AbortReason}", ResetCode, WasRefused);
}
