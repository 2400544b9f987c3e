using System.Buffers;
using PluginProxy.Abstractions;
using PluginProxy.Http.Codec.H2;

namespace PluginProxy.Http.Engine.H2.Upstream;

/// <summary>
/// One HTTP/2 connection to a server, as the client (RFC 9113): sends the client preface and our SETTINGS, applies and
/// acknowledges the server's SETTINGS, answers PING, reads every frame in one loop (<see cref="RunAsync"/>), and
/// multiplexes request streams (<see cref="Http2ClientStream"/>) that write through one serialized writer.
/// </summary>
/// <remarks>
/// Shared state (streams, windows, settings) is guarded by one lock, never held across an await. A GOAWAY from the
/// server makes the connection draining: no new stream, the streams above its last stream id are refused
/// (<see cref="Http2ClientStream.WasRefused"/>), and the connection closes once the others ended. A connection error
/// sends GOAWAY with its code and aborts every stream. <see cref="RunAsync"/> returns when the connection ended; the
/// caller owns the transport and disposes it.
/// </remarks>
internal sealed partial class Http2ServerConnection
{
    private readonly Transport _transport;
    private readonly Http2UpstreamOptions _options;
    private readonly Http2Writer _writer;
    private readonly HpackDecoder _decoder;
    private readonly Lock _sync = new();
    private readonly Dictionary<int, Http2ClientStream> _streams = [];
    private readonly CancellationTokenSource _readCancel = new();
    private readonly TaskCompletionSource _settingsReceived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Http2Settings _peer = new();
    private byte[]? _readBuffer;
    private int _readCount;
    private int _activeStreams;
    private int _nextStreamId = 1;
    private int _lastSentStreamId;
    private int _goAwayLastId = int.MaxValue;
    private bool _peerGoAway;
    private bool _goAwaySent;
    private bool _ended;
    private long _sendWindow = 65535;
    private int _receiveWindow = 65535;
    private int _connectionCredit;
    private TaskCompletionSource? _windowSignal;

    /// <param name="transport">A connection to the server (TLS with ALPN h2, or plain h2c with prior knowledge), nothing sent yet.</param>
    /// <param name="options">What we advertise and buffer (null: <see cref="Http2UpstreamOptions.Default"/>).</param>
    public Http2ServerConnection(Transport transport, Http2UpstreamOptions? options = null)
    {
        _options = options ?? Http2UpstreamOptions.Default;
        _options.Validate();
        _transport = transport;
        IsTls = transport.Tls is not null;
        _writer = new Http2Writer(transport, _options.EncoderTableSize);
        _decoder = new HpackDecoder(_options.HeaderTableSize, _options.MaxHeaderListSize);

        // Queued now, so whichever send comes first (RunAsync's or a request head's) puts it first on the wire.
        QueuePreface();
    }

    /// <summary>True when the connection is TLS: requests on it say <c>:scheme https</c>, as the server expects.</summary>
    public bool IsTls { get; }

    /// <summary>Completes when the server's first SETTINGS frame was applied (or the connection ended before it).</summary>
    public Task SettingsReceived => _settingsReceived.Task;

    /// <summary>The streams opened and not ended yet (counted against the server's MAX_CONCURRENT_STREAMS).</summary>
    public int ActiveStreams
    {
        get
        {
            lock (_sync)
            {
                return _activeStreams;
            }
        }
    }

    /// <summary>The server's SETTINGS_MAX_CONCURRENT_STREAMS (<see cref="uint.MaxValue"/> until it sends one).</summary>
    public uint MaxConcurrentStreams
    {
        get
        {
            lock (_sync)
            {
                return _peer.MaxConcurrentStreams;
            }
        }
    }

    /// <summary>True after a GOAWAY either way: no new stream; the connection closes once its streams ended.</summary>
    public bool IsDraining
    {
        get
        {
            lock (_sync)
            {
                return _peerGoAway || _goAwaySent || _ended;
            }
        }
    }

    /// <summary>True once the connection ended.</summary>
    public bool IsClosed
    {
        get
        {
            lock (_sync)
            {
                return _ended;
            }
        }
    }

    /// <summary>The GOAWAY code of a connection error (ours or the server's), or null.</summary>
    public Http2ErrorCode? ErrorCode { get; private set; }

    /// <summary>Why the connection ended, for the log; null while running.</summary>
    public string? EndDetail { get; private set; }

    /// <summary>
    /// Stops taking new streams: sends GOAWAY NO_ERROR, lets the open streams finish, then closes. Safe to call from any
    /// thread, more than once.
    /// </summary>
    public void BeginShutdown()
    {
        lock (_sync)
        {
            if (_goAwaySent || _ended)
            {
                return;
            }

            _goAwaySent = true;
            _writer.QueueGoAway(0, Http2ErrorCode.NoError);
            StopIfIdleLocked();
        }

        _ = FlushQuietlyAsync();
    }

    /// <summary>Sends the preface and our SETTINGS, then reads frames until the connection ends.</summary>
    public async Task RunAsync()
    {
        Http2Error error = Http2Error.None;
        try
        {
            await _writer.FlushAsync().ConfigureAwait(false);
            error = await ReadLoopAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            EndDetail ??= e is OperationCanceledException ? "closed after GOAWAY" : e.Message;
        }
        catch (Exception e)
        {
            EndDetail = e.Message;
            error = Http2Error.Connection(Http2ErrorCode.InternalError, "internal error");
        }
        finally
        {
            if (_readBuffer is not null)
            {
                ArrayPool<byte>.Shared.Return(_readBuffer);
                _readBuffer = null;
            }
        }

        await EndAsync(error).ConfigureAwait(false);
    }

    private void QueuePreface()
    {
        _writer.Queue(0, static (w, _) =>
        {
            Http2Protocol.ClientPreface.CopyTo(w.GetSpan(Http2Protocol.ClientPrefaceLength));
            w.Advance(Http2Protocol.ClientPrefaceLength);
        });
        Http2Setting[] settings =
        [
            new(Http2SettingId.EnablePush, 0),
            new(Http2SettingId.InitialWindowSize, (uint)_options.StreamWindow),
            new(Http2SettingId.MaxFrameSize, (uint)_options.MaxFrameSize),
            new(Http2SettingId.MaxHeaderListSize, (uint)_options.MaxHeaderListSize),
            new(Http2SettingId.HeaderTableSize, (uint)_options.HeaderTableSize),
        ];
        _writer.Queue(settings, static (w, s) => FrameWriter.WriteSettings(w, s));
        if (_options.ConnectionWindow > 65535)
        {
            _writer.QueueWindowUpdate(0, _options.ConnectionWindow - 65535);
            _receiveWindow = _options.ConnectionWindow;
        }
    }

    private async ValueTask<Http2Error> ReadLoopAsync()
    {
        CancellationToken token = _readCancel.Token;
        _readBuffer = ArrayPool<byte>.Shared.Rent(FrameHeader.Size + _options.MaxFrameSize);
        while (true)
        {
            int n = await _transport.ReceiveAsync(_readBuffer.AsMemory(_readCount), token).ConfigureAwait(false);
            if (n == 0)
            {
                EndDetail = "the server closed the connection";
                return Http2Error.None;
            }

            _readCount += n;
            Http2Error error = ProcessBuffer();
            await _writer.FlushAsync().ConfigureAwait(false);
            if (error.IsError)
            {
                return error;
            }
        }
    }

    /// <summary>Handles every complete frame in the read buffer, then moves what is left to its start.</summary>
    private Http2Error ProcessBuffer()
    {
        byte[] buffer = _readBuffer!;
        int offset = 0;
        Http2Error error = Http2Error.None;
        while (!error.IsError && FrameHeader.TryRead(buffer.AsSpan(offset, _readCount - offset), out FrameHeader header))
        {
            if (header.Length > _options.MaxFrameSize)
            {
                return Http2Error.Connection(Http2ErrorCode.FrameSizeError, "frame larger than SETTINGS_MAX_FRAME_SIZE");
            }

            if (_readCount - offset - FrameHeader.Size < header.Length)
            {
                break;
            }

            error = OnFrame(header, buffer.AsSpan(offset + FrameHeader.Size, header.Length));
            offset += FrameHeader.Size + header.Length;
        }

        buffer.AsSpan(offset, _readCount - offset).CopyTo(buffer);
        _readCount -= offset;
        return error;
    }

    /// <summary>Ends the connection: GOAWAY on an error, abort the streams left, close the sending side.</summary>
    private async Task EndAsync(Http2Error error)
    {
        List<Http2ClientStream> left;
        lock (_sync)
        {
            _ended = true;
            if (error.IsError)
            {
                ErrorCode = error.Code;
                EndDetail = error.Detail;
                _writer.QueueGoAway(0, error.Code);
            }

            left = [.. _streams.Values, .. _unsent];
            foreach (Http2ClientStream stream in left)
            {
                bool unprocessed = stream.Id > _goAwayLastId;
                AbortLocked(stream, error.IsError ? error.Code : ErrorCode, unprocessed,
                    error.IsError ? $"connection error: {error.Detail}" : $"the connection ended ({EndDetail})");
            }

            _windowSignal?.TrySetResult();
            _windowSignal = null;
        }

        _settingsReceived.TrySetResult();
        foreach (Http2ClientStream stream in left)
        {
            stream.FireAborted();
        }

        await FlushQuietlyAsync().ConfigureAwait(false);
        try
        {
            await _transport.ShutdownSendAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or System.Net.Sockets.SocketException or InvalidOperationException)
        {
        }
    }

    private async Task FlushQuietlyAsync()
    {
        try
        {
            await _writer.FlushAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or System.Net.Sockets.SocketException or InvalidOperationException)
        {
        }
    }

    /// <summary>After a GOAWAY either way, stops reading once no stream is left (the caller holds the lock).</summary>
    private void StopIfIdleLocked()
    {
        if ((_goAwaySent || _peerGoAway) && _activeStreams == 0 && !_ended)
        {
            _ = _readCancel.CancelAsync();
        }
    }
}
