using PluginProxy.Abstractions.Http;
using PluginProxy.Http.Codec.H2;

namespace PluginProxy.Http.Engine.H2;

/// <summary>
/// One request stream of an HTTP/2 client connection, as a handler sees it: the request head, its body and trailers to
/// read, the response to write, and a token that fires when the stream is reset (by the client, by us, or because the
/// connection ended). The engine's phases work on it where they work on the HTTP/1.1 client side.
/// </summary>
/// <remarks>
/// Reads and writes may run at the same time (one of each). The state fields are shared with the connection's reader
/// loop and guarded by the connection's lock.
/// </remarks>
internal sealed class Http2ServerStream
{
    private readonly Http2ClientConnection _connection;
    private CancellationTokenSource? _aborted;
    private int _abortFired;
    private Action? _onAborted;

    internal Http2ServerStream(Http2ClientConnection connection, int id, int receiveCapacity, Http2Message message)
    {
        _connection = connection;
        Id = id;
        Received = new Http2ReceiveBuffer(receiveCapacity);
        Message = message;
    }

    /// <summary>The stream identifier (odd: the client opened it).</summary>
    public int Id { get; private set; }

    /// <summary>
    /// True when this object may serve a later stream of its connection (kept with its message): it is closed, its
    /// handler finished, and it never handed out a cancellation token that someone could still hold.
    /// </summary>
    internal bool Reusable => State == Http2StreamState.Closed && Volatile.Read(ref _aborted) is null;

    /// <summary>Makes this finished stream (<see cref="Reusable"/>) the new stream <paramref name="id"/>: every state as a new one has it.</summary>
    internal Http2ServerStream Reuse(int id)
    {
        Id = id;
        _abortFired = 0;
        _onAborted = null;
        RequestTrailers = null;
        ResetCode = null;
        ResponseStarted = false;
        ResponseEnded = false;
        Received.Clear();
        Credit = 0;
        DataReceived = 0;
        HeadTooLarge = false;
        ReadWaiter = null;
        WindowWaiter = null;
        WindowWaitSince = null;
        return this;
    }

    /// <summary>The version-independent message of this stream: the engine runs its phases on it.</summary>
    public HttpExchange Exchange => Message.Exchange;

    /// <summary>The message and the bytes of the request head, kept by the connection for a later stream once this one is over.</summary>
    internal Http2Message Message { get; }

    /// <summary>The request head: version HTTP/2, scheme and authority from the pseudo-fields, a <c>host</c> field made from <c>:authority</c> when the client sent none.</summary>
    public HttpRequestHead Request => Exchange.Request;

    /// <summary>The request trailers once the body ended with them, else null.</summary>
    public HttpHeaders? RequestTrailers { get; internal set; }

    /// <summary>Fires when the stream is reset (RST_STREAM either way) or the connection ends before the stream did.</summary>
    public CancellationToken Aborted => (Volatile.Read(ref _aborted) ?? CreateAborted()).Token;

    /// <summary>True once the stream was reset either way, or its connection ended first.</summary>
    public bool IsAborted => Volatile.Read(ref _abortFired) == 1;

    /// <summary>
    /// Calls <paramref name="onAborted"/> when the stream is aborted (at once if it was already), without the
    /// cancellation machinery a token registration costs per stream. <see cref="TakeAbortObserver"/> removes it.
    /// </summary>
    public void ObserveAbort(Action onAborted)
    {
        Volatile.Write(ref _onAborted, onAborted);
        if (IsAborted)
        {
            Interlocked.Exchange(ref _onAborted, null)?.Invoke();
        }
    }

    /// <summary>
    /// Tells the connection the handler is done with this stream (<see cref="Http2ClientConnection.HandlerFinishesStreams"/>):
    /// reset if its response did not end, <paramref name="failed"/> saying whether the handler broke.
    /// </summary>
    public void HandlerFinished(bool failed) => _connection.FinishHandler(this, failed);

    /// <summary>Removes the observer: true when it was not called (and will not be), false when the abort took it.</summary>
    public bool TakeAbortObserver() => Interlocked.Exchange(ref _onAborted, null) is not null;

    /// <summary>The token's source, made when first asked for (most streams never are): cancelled at once if the stream was aborted already.</summary>
    private CancellationTokenSource CreateAborted()
    {
        var made = new CancellationTokenSource();
        CancellationTokenSource source = Interlocked.CompareExchange(ref _aborted, made, null) ?? made;
        if (!ReferenceEquals(source, made))
        {
            made.Dispose();
        }
        else if (Volatile.Read(ref _abortFired) == 1)
        {
            source.Cancel();
        }

        return source;
    }

    /// <summary>The code the stream was reset with, or null.</summary>
    public Http2ErrorCode? ResetCode { get; internal set; }

    /// <summary>True once a final response head was sent.</summary>
    public bool ResponseStarted { get; internal set; }

    /// <summary>True once the response ended (END_STREAM sent).</summary>
    public bool ResponseEnded { get; internal set; }

    // State shared with the reader loop, under the connection's lock.
    internal Http2StreamState State { get; set; }

    internal Http2ReceiveBuffer Received { get; }

    /// <summary>What the client may still send before we open the window again.</summary>
    internal int ReceiveWindow { get; set; }

    /// <summary>Data read (or padding received) not yet given back with WINDOW_UPDATE.</summary>
    internal int Credit { get; set; }

    internal long SendWindow { get; set; }

    internal long DataReceived { get; set; }

    internal bool EndReceived { get; set; }

    /// <summary>True when the head was over the header list limit: the connection answers 431 instead of running the handler.</summary>
    internal bool HeadTooLarge { get; set; }

    internal TaskCompletionSource? ReadWaiter { get; set; }

    internal TaskCompletionSource? WindowWaiter { get; set; }

    /// <summary>Since when (the deadlines' clock) a write waits for send window without getting any, or null.</summary>
    internal long? WindowWaitSince { get; set; }

    /// <summary>
    /// Reads request body bytes into <paramref name="buffer"/>: the count, or 0 at the end of the body. Reading opens the
    /// flow-control windows again (WINDOW_UPDATE), so the client sends more only as fast as the handler reads.
    /// </summary>
    /// <exception cref="OperationCanceledException">The stream was reset, or <paramref name="cancellationToken"/> fired.</exception>
    public ValueTask<int> ReadBodyAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        => _connection.ReadBodyAsync(this, buffer, cancellationToken);

    /// <summary>
    /// Sends a response head: <c>:status</c> then the present fields of <paramref name="head"/> without the
    /// connection-specific ones (and those its Connection field names), names lowercased.
    /// </summary>
    public ValueTask WriteResponseHeadAsync(HttpResponseHead head, bool endStream, CancellationToken cancellationToken = default)
        => WriteResponseHeadAsync(head, endStream, dataFollows: false, cancellationToken);

    /// <summary>As <see cref="WriteResponseHeadAsync(HttpResponseHead, bool, CancellationToken)"/>; with <paramref name="dataFollows"/>, the head waits for the DATA written next, to go out in one write with it.</summary>
    /// <param name="head">The head.</param>
    /// <param name="endStream">True when no body follows.</param>
    /// <param name="dataFollows">True when DATA is written next at once.</param>
    /// <param name="cancellationToken">Abandons the write.</param>
    /// <param name="fields">A list to fill and encode (the caller's, reused), or null for a new one.</param>
    public ValueTask WriteResponseHeadAsync(HttpResponseHead head, bool endStream, bool dataFollows, CancellationToken cancellationToken = default, Http2FieldList? fields = null)
    {
        fields?.Clear();
        fields ??= new Http2FieldList();
        fields.AddStatus(head.Status);
        fields.AddFrom(head.Headers);
        return _connection.WriteHeadAsync(this, fields, head.Status >= 200, endStream, cancellationToken, dataFollows);
    }

    /// <summary>Sends a response head with <paramref name="status"/> (100..599; a 1xx head may be followed by another) and <paramref name="fields"/>.</summary>
    public ValueTask WriteResponseHeadAsync(int status, IEnumerable<KeyValuePair<string, string>>? fields, bool endStream, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(status, 100);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(status, 599);
        if (status < 200 && endStream)
        {
            throw new ArgumentException("an informational (1xx) head cannot end the stream", nameof(endStream));
        }

        var list = new Http2FieldList();
        list.AddStatus(status);
        foreach ((string name, string value) in fields ?? [])
        {
            list.Add(name, value);
        }

        return _connection.WriteHeadAsync(this, list, status >= 200, endStream, cancellationToken);
    }

    /// <summary>
    /// Sends response body bytes as DATA frames within the client's flow-control windows and frame size, waiting for
    /// WINDOW_UPDATE when they are used up; <paramref name="endStream"/> ends the response with the last frame.
    /// </summary>
    public ValueTask WriteDataAsync(ReadOnlyMemory<byte> data, bool endStream, CancellationToken cancellationToken = default)
        => _connection.WriteDataAsync(this, data, endStream, cancellationToken);

    /// <summary>Ends the response with trailers (a HEADERS frame with END_STREAM).</summary>
    public ValueTask WriteTrailersAsync(IEnumerable<KeyValuePair<string, string>> trailers, CancellationToken cancellationToken = default)
    {
        var list = new Http2FieldList();
        foreach ((string name, string value) in trailers)
        {
            list.Add(name, value);
        }

        return _connection.WriteTrailersAsync(this, list, cancellationToken);
    }

    /// <summary>Ends the response with the present fields of <paramref name="trailers"/> (an HTTP/1.1 trailer section, say).</summary>
    public ValueTask WriteTrailersAsync(HttpHeaders trailers, CancellationToken cancellationToken = default)
    {
        var list = new Http2FieldList();
        list.AddFrom(trailers);
        return _connection.WriteTrailersAsync(this, list, cancellationToken);
    }

    /// <summary>Resets the stream (RST_STREAM with <paramref name="code"/>) unless it is already closed; <see cref="Aborted"/> fires.</summary>
    public void Reset(Http2ErrorCode code) => _connection.ResetStream(this, code);

    /// <summary>Fires <see cref="Aborted"/> (its callbacks run on the thread pool, never under the caller's lock).</summary>
    internal void FireAborted()
    {
        if (Interlocked.Exchange(ref _abortFired, 1) == 1)
        {
            return;
        }

        Interlocked.Exchange(ref _onAborted, null)?.Invoke();
        if (Volatile.Read(ref _aborted) is { IsCancellationRequested: false } source)
        {
            _ = source.CancelAsync();
        }
    }

    /// <summary>Wakes whoever waits to read or for window.</summary>
    internal void WakeAll()
    {
        ReadWaiter?.TrySetResult();
        ReadWaiter = null;
        WindowWaiter?.TrySetResult();
        WindowWaiter = null;
    }
}
