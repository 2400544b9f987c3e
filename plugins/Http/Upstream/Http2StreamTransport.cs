using System.Net.Sockets;
using System.Text;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;
using PluginProxy.Http.Codec;
using PluginProxy.Http.Codec.H1;
using PluginProxy.Http.Engine.H2.Upstream;

namespace PluginProxy.Http.Upstream;

/// <summary>
/// One request stream to an HTTP/2 server (<c>proto = "h2"</c>), seen by the engine as the HTTP/1.1 connection it
/// writes a request to and reads a response from: the codec at the server's edge. What the engine sends (the request
/// head as it writes it for any server, then the body in its framing) goes out as HEADERS, DATA and trailers; what the
/// server answers comes back as an HTTP/1.1 head, the body with its length or in chunked coding, and the trailers in
/// the last chunk. So analyzers, the response phases and either client version work on it unchanged.
/// </summary>
/// <remarks>
/// A request the server refused (REFUSED_STREAM, or above a GOAWAY's last stream id: it was not processed) is sent
/// again on another connection of the pool, at most <see cref="MaxRefusals"/> times, when the whole request went in the
/// first write. Disposing it releases the stream (RST_STREAM CANCEL when still open).
/// </remarks>
internal sealed class Http2StreamTransport : Transport
{
    private const int MaxRefusals = 2;

    private readonly Http2ServerPool _pool;
    private readonly IServer _server;
    private readonly Func<CancellationToken, ValueTask<ServerConnection?>> _connect;
    private readonly bool _trailersAccepted;
    private readonly RequestFacts _facts = new();
    private readonly HttpHeaders _requestTrailers = new();
    private Http2Lease _lease;
    private BodyFramer _body;
    private bool _headSent;
    private bool _trailersSent;
    private string _method = "";
    private byte[]? _replay;
    private ResponseState _state;
    private bool _chunked;
    private readonly OutputBuffer _pending = new();
    private int _pendingStart;

    /// <param name="pool">Where the stream came from, and where a refused request finds another connection.</param>
    /// <param name="lease">The stream.</param>
    /// <param name="connect">How the pool connects to the server when it needs a new connection.</param>
    /// <param name="request">The request being sent (whether the client accepts trailers).</param>
    public Http2StreamTransport(Http2ServerPool pool, Http2Lease lease, Func<CancellationToken, ValueTask<ServerConnection?>> connect, HttpRequestHead request)
    {
        _pool = pool;
        _lease = lease;
        _server = lease.Server;
        _connect = connect;
        _trailersAccepted = request.Headers.Get("te") is { } te && te.Contains("trailers", StringComparison.OrdinalIgnoreCase);
    }

    private enum ResponseState
    {
        Head,
        Body,
        Done,
    }

    /// <summary>The server's stream refusals that were sent again (for the log's retries).</summary>
    public int Refusals { get; private set; }

    /// <inheritdoc/>
    public override async ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        try
        {
            if (!_headSent)
            {
                data = await SendHeadAsync(data, cancellationToken).ConfigureAwait(false);
            }

            await SendBodyAsync(data, cancellationToken).ConfigureAwait(false);
        }
        catch (Http2StreamAbortedException ex)
        {
            throw new IOException($"the HTTP/2 server {ex.Message}", ex);
        }
    }

    /// <summary>Parses the head the engine wrote and sends it as HEADERS; returns the body bytes that followed it.</summary>
    private async ValueTask<ReadOnlyMemory<byte>> SendHeadAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        _facts.Reset();
        if (HeadParser.ParseRequest(data.Span, _facts, out HttpParseError error) != ParseStatus.Complete)
        {
            throw new IOException($"the request head for the HTTP/2 server could not be read back: {HttpParseErrors.Describe(error)}");
        }

        _headSent = true;
        ReadOnlySpan<byte> head = data.Span;
        string method = Encoding.ASCII.GetString(head[_facts.Method]);
        string path = Encoding.ASCII.GetString(head[_facts.Target]);
        string authority = "";
        var fields = new List<KeyValuePair<string, string>>(_facts.HeaderCount + 1);
        for (int i = 0; i < _facts.HeaderCount; i++)
        {
            HeaderRange h = _facts.Headers[i];
            string name = Encoding.Latin1.GetString(head.Slice(h.NameStart, h.NameLength));
            string value = Encoding.Latin1.GetString(head.Slice(h.ValueStart, h.ValueLength));
            if (name.Equals("host", StringComparison.OrdinalIgnoreCase))
            {
                authority = value;
            }

            fields.Add(new(name, value));
        }

        if (_trailersAccepted)
        {
            // TE is hop-by-hop in HTTP/1.1, so the engine's head has none; an HTTP/2 server (gRPC) expects it.
            fields.Add(new("te", "trailers"));
        }

        _body.Start(_facts.Chunked ? BodyKind.Chunked : _facts.ContentLength > 0 ? BodyKind.Length : BodyKind.None,
            Math.Max(_facts.ContentLength, 0), dechunk: true, trailers: _facts.Chunked ? _requestTrailers : null);
        ReadOnlyMemory<byte> rest = data[_facts.HeadLength..];
        if (_body.IsDone || BodyEndsWithin(rest.Span))
        {
            // The whole request is here: kept, to be sent again if the server refuses the stream.
            _replay = data.ToArray();
        }

        _method = method;
        await _lease.Stream.WriteRequestHeadAsync(method, _lease.Connection.IsTls ? "https" : "http", authority, path, fields, endStream: _body.IsDone, cancellationToken).ConfigureAwait(false);
        return rest;
    }

    /// <summary>True when <paramref name="rest"/> holds the whole body (a copy of the framer checks it without consuming).</summary>
    private bool BodyEndsWithin(ReadOnlySpan<byte> rest)
    {
        BodyFramer probe = _body;
        probe.Start(_body.Kind, Math.Max(_facts.ContentLength, 0), dechunk: true);
        int offset = 0;
        while (!probe.IsDone && offset < rest.Length)
        {
            if (probe.Next(rest[offset..], out int consumed, out _) != HttpParseError.None || consumed == 0)
            {
                return false;
            }

            offset += consumed;
        }

        return probe.IsDone;
    }

    /// <summary>Body bytes in the engine's framing: their data as DATA frames; the end as END_STREAM or trailers.</summary>
    private async ValueTask SendBodyAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (!_body.IsDone && data.Length > 0)
        {
            HttpParseError error = _body.Next(data.Span, out int consumed, out Range forward);
            if (error != HttpParseError.None)
            {
                throw new IOException($"the request body for the HTTP/2 server is malformed: {HttpParseErrors.Describe(error)}");
            }

            (int offset, int length) = forward.GetOffsetAndLength(data.Length);
            bool end = _body.IsDone && _requestTrailers.Count == 0;
            if (length > 0 || end)
            {
                await _lease.Stream.WriteDataAsync(data.Slice(offset, length), end, cancellationToken).ConfigureAwait(false);
            }

            data = data[consumed..];
            if (consumed == 0)
            {
                break;
            }
        }

        if (_body.IsDone && _requestTrailers.Count > 0 && !_trailersSent)
        {
            _trailersSent = true;
            await _lease.Stream.WriteTrailersAsync(_requestTrailers, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public override async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            if (_pending.Length == 0 && _state == ResponseState.Head)
            {
                await ReadHeadAsync(cancellationToken).ConfigureAwait(false);
            }

            if (_pending.Length > 0)
            {
                return TakePending(buffer.Span);
            }

            return _state == ResponseState.Done ? 0 : await ReadBodyAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Http2StreamAbortedException ex)
        {
            throw new IOException($"the HTTP/2 server {ex.Message}", ex);
        }
    }

    /// <summary>The final response head, as HTTP/1.1 bytes; a refused stream is sent again first.</summary>
    private async ValueTask ReadHeadAsync(CancellationToken cancellationToken)
    {
        Http2UpstreamResponse response;
        while (true)
        {
            try
            {
                response = await _lease.Stream.ReadResponseHeadAsync(cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (Http2StreamAbortedException ex) when (ex.WasRefused && _replay is not null && Refusals < MaxRefusals)
            {
                await SendAgainAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        bool hasLength = response.Get("content-length") is not null;
        bool bodiless = response.Status is 204 or 304 || _method == "HEAD";
        _chunked = !hasLength && !bodiless && !(_lease.Stream.ResponseEnded && _lease.Stream.ResponseTrailers is null);
        OutputBuffer head = StartPending(256);
        head.Write("HTTP/1.1 "u8);
        head.WriteNumber(response.Status);
        head.Write((byte)' ');
        head.WriteLatin1(ErrorPages.Reason(response.Status));
        head.Write(ChunkWriter.End);
        foreach (KeyValuePair<string, string> field in response.Fields)
        {
            head.WriteLatin1(field.Key);
            head.Write(": "u8);
            head.WriteLatin1(field.Value);
            head.Write(ChunkWriter.End);
        }

        if (_chunked)
        {
            head.Write("transfer-encoding: chunked\r\n"u8);
        }
        else if (!hasLength && !bodiless)
        {
            head.Write("content-length: 0\r\n"u8);
        }

        head.Write(ChunkWriter.End);
        _state = ResponseState.Body;
    }

    /// <summary>Opens another stream through the pool and sends the whole request on it again.</summary>
    private async ValueTask SendAgainAsync(CancellationToken cancellationToken)
    {
        Refusals++;
        _lease.Dispose();
        _lease = await _pool.OpenStreamAsync(_server, _connect, cancellationToken).ConfigureAwait(false)
            ?? throw new IOException("the HTTP/2 server refused the stream and no other connection could be made");
        _headSent = false;
        _trailersSent = false;
        _requestTrailers.Reset([]);
        await SendAsync(_replay, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Response data: as received when its length is known, else one chunk per read; then the last chunk with the trailers.</summary>
    private async ValueTask<int> ReadBodyAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (!_chunked)
        {
            int n = await _lease.Stream.ReadBodyAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                _state = ResponseState.Done;
            }

            return n;
        }

        int read = await _lease.Stream.ReadBodyAsync(buffer[ChunkWriter.Room..^2], cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            _state = ResponseState.Done;
            ChunkWriter.WriteLast(StartPending(64), _lease.Stream.ResponseTrailers?.Fields);
            return TakePending(buffer.Span);
        }

        // The chunk-size line goes before the data and the CRLF after it, then the chunk moves to the buffer's start.
        Span<byte> span = buffer.Span;
        (int start, int length) = ChunkWriter.Frame(span, read);
        span.Slice(start, length).CopyTo(span);
        return length;
    }

    /// <summary>Starts the bytes to hand out before anything else is read (a head, the last chunk).</summary>
    private OutputBuffer StartPending(int capacity)
    {
        _pending.Start(capacity);
        _pendingStart = 0;
        return _pending;
    }

    private int TakePending(Span<byte> buffer)
    {
        int n = Math.Min(buffer.Length, _pending.Length - _pendingStart);
        _pending.Written.Span.Slice(_pendingStart, n).CopyTo(buffer);
        _pendingStart += n;
        if (_pendingStart == _pending.Length)
        {
            _pending.Release();
        }

        return n;
    }

    /// <inheritdoc/>
    public override ValueTask WaitForDataAsync(CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    /// <inheritdoc/>
    public override ValueTask ShutdownSendAsync() => ValueTask.CompletedTask;

    /// <inheritdoc/>
    public override void ShutdownReceive()
    {
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        _lease.Dispose();
        _pending.Release();
    }
}
