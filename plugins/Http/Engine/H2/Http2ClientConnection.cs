using System.Buffers;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;
using PluginProxy.Http.Codec.H2;

namespace PluginProxy.Http.Engine.H2;

/// <summary>
/// Runs one client connection that speaks HTTP/2 (RFC 9113) as the server side: checks the client preface, exchanges
/// SETTINGS, reads every frame in one loop, keeps the stream states, flow control and HPACK context, and starts a
/// handler per request stream (<see cref="Http2ServerStream"/>); handlers run concurrently and write through one
/// serialized writer (<see cref="Http2Writer"/>). Limits and flood defences come from <see cref="Http2Limits"/>.
/// </summary>
/// <remarks>
/// The reader loop holds a read buffer of one frame at most (<see cref="Http2Limits.MaxFrameSize"/> + 9 bytes), rented
/// while bytes are there and returned when the connection waits. Shared state (streams, windows) is guarded by one lock,
/// never held across an await. A connection error sends GOAWAY with its code and ends the connection; a stream error
/// sends RST_STREAM and the connection goes on. <see cref="BeginShutdown"/> sends GOAWAY, lets the open streams finish,
/// then closes. <see cref="RunAsync"/> returns once the connection ended and every handler returned; the caller owns the
/// transport and disposes it.
/// </remarks>
internal sealed partial class Http2ClientConnection
{
    private readonly Transport _transport;
    private readonly Http2Limits _limits;
    private readonly Func<Http2ServerStream, ValueTask> _handler;
    private readonly ILogger? _log;
    private readonly Http2Writer _writer;
    private readonly Http2Deadlines _deadlines;
    private readonly IHeartbeat? _heartbeat;
    private readonly HpackDecoder _decoder;
    private readonly Http2HeadBuilder _head = new();
    private readonly Lock _sync = new();
    private const int KeptMessages = 16;

    // True when a stream may be waiting for send window (WakeWindowWaitersLocked wakes them all and clears it); under _sync.
    private bool _windowWaiters;

    private readonly Dictionary<int, Http2ServerStream> _streams = [];
    private readonly Stack<Http2Message> _messages = new();
    private readonly CancellationTokenSource _readCancel = new();
    private readonly TaskCompletionSource _handlersDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Http2FloodCounter _clientResets;
    private readonly Http2FloodCounter _refusedStreams;
    private readonly Http2FloodCounter _settingsFrames;
    private readonly Http2FloodCounter _pings;
    private readonly Http2FloodCounter _emptyFrames;
    private readonly int[] _resetByUs;
    private readonly int[] _closed;
    private int _closedNext;
    private readonly byte[] _initial;
    private int _resetNext;
    private byte[]? _readBuffer;
    private int _readCount;
    private bool _prefaceSeen;
    private bool _settingsSeen;
    private bool _settingsAcked;
    private int _lastStreamId;
    private int _goAwayLastId = int.MaxValue;
    private bool _goAwaySent;
    private bool _peerGoAway;
    private bool _ended;
    private long _sendWindow = 65535;
    private long? _sendWindowZeroSince;
    private Http2Error _timeoutError;
    private string? _timeoutDetail;
    private int _receiveWindow = 65535;
    private int _credit;
    private uint _peerInitialWindow = Http2Settings.DefaultInitialWindowSize;
    private int _handlers = 1;

    /// <param name="transport">The client connection, positioned at the client preface (or after <paramref name="initialBytes"/>).</param>
    /// <param name="handler">Started once per request stream, concurrently; a handler that throws resets its stream with INTERNAL_ERROR.</param>
    /// <param name="limits">Limits and defences (null: <see cref="Http2Limits.Default"/>).</param>
    /// <param name="log">Where connection errors are logged (at debug level), or null.</param>
    /// <param name="initialBytes">Bytes already read from the transport (the preface, say, when a listener sniffed it); at most one frame's worth.</param>
    /// <param name="heartbeat">The host's heartbeat, which checks the deadlines (null: a timer of the connection's own).</param>
    /// <param name="clock">The time in milliseconds on the heartbeat's clock (null: <see cref="Environment.TickCount64"/>); tests pass one they advance.</param>
    public Http2ClientConnection(Transport transport, Func<Http2ServerStream, ValueTask> handler, Http2Limits? limits = null,
        ILogger? log = null, ReadOnlyMemory<byte> initialBytes = default, IHeartbeat? heartbeat = null, Func<long>? clock = null)
    {
        _limits = limits ?? Http2Limits.Default;
        _limits.Validate();
        _transport = transport;
        _handler = handler;
        _log = log;
        _heartbeat = heartbeat;
        _deadlines = new Http2Deadlines(this, _limits, clock);
        _writer = new Http2Writer(transport, _limits.EncoderTableSize, _deadlines);
        _decoder = new HpackDecoder(Math.Max(_limits.HeaderTableSize, HpackDecoder.DefaultMaxTableSize), _limits.MaxHeaderListSize);
        _clientResets = new Http2FloodCounter(_limits.MaxClientResets, _limits.FloodWindow);
        _refusedStreams = new Http2FloodCounter(_limits.MaxRefusedStreams, _limits.FloodWindow);
        _settingsFrames = new Http2FloodCounter(_limits.MaxSettingsFrames, _limits.FloodWindow);
        _pings = new Http2FloodCounter(_limits.MaxPings, _limits.FloodWindow);
        _emptyFrames = new Http2FloodCounter(_limits.MaxEmptyFrames, _limits.FloodWindow);
        _resetByUs = new int[_limits.ResetStreamsRemembered];
        _closed = new int[_limits.ResetStreamsRemembered];
        if (initialBytes.Length > FrameHeader.Size + _limits.MaxFrameSize)
        {
            throw new ArgumentException("more initial bytes than the read buffer holds", nameof(initialBytes));
        }

        _initial = initialBytes.ToArray();
    }

    /// <summary>The highest stream id the client opened.</summary>
    public int LastStreamId
    {
        get
        {
            lock (_sync)
            {
                return _lastStreamId;
            }
        }
    }

    /// <summary>The streams open or half-closed now.</summary>
    public int ActiveStreams
    {
        get
        {
            lock (_sync)
            {
                return _streams.Count;
            }
        }
    }

    /// <summary>Why the reads ended without a protocol error (the client closed, a graceful stop, a broken connection), for the log; null while running.</summary>
    public string? EndDetail { get; private set; }

    /// <summary>The GOAWAY code we sent when the connection ended in error, or null.</summary>
    public Http2ErrorCode? ErrorCode { get; private set; }

    /// <summary>
    /// Starts a graceful stop: sends GOAWAY (NO_ERROR, the highest stream id received), refuses streams the client opens
    /// after it, lets the open ones finish, then closes the connection. Safe to call from any thread, more than once.
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
            _goAwayLastId = _lastStreamId;
            _writer.QueueGoAway(_lastStreamId, Http2ErrorCode.NoError);
            StopIfIdleLocked();
        }

        _ = FlushQuietlyAsync();
    }

    /// <summary>Runs the connection until it ends; returns once every handler returned.</summary>
    public async Task RunAsync()
    {
        Http2Error error = Http2Error.None;
        try
        {
            _deadlines.StartIdle();
            _deadlines.Start(_heartbeat);
            SendOurSettings();
            await _writer.FlushAsync().ConfigureAwait(false);
            error = await ReadLoopAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            // The client went away, a graceful stop or a deadline ended the reads.
            lock (_sync)
            {
                error = _timeoutError;
                EndDetail = _timeoutDetail ?? (error.IsError ? null : e.Message);
            }
        }
        catch (Exception e)
        {
            _log?.LogError(e, "HTTP/2 connection failed");
            error = Http2Error.Connection(Http2ErrorCode.InternalError, "internal error");
        }
        finally
        {
            _readCount = 0;
            ReturnReadBuffer();
            ReturnBlock();
        }

        try
        {
            await EndAsync(error).ConfigureAwait(false);
        }
        finally
        {
            _deadlines.Dispose();
        }
    }

    private void SendOurSettings()
    {
        Http2Setting[] settings =
        [
            new(Http2SettingId.MaxConcurrentStreams, (uint)_limits.MaxConcurrentStreams),
            new(Http2SettingId.InitialWindowSize, (uint)_limits.StreamWindow),
            new(Http2SettingId.MaxHeaderListSize, (uint)_limits.MaxHeaderListSize),
            new(Http2SettingId.MaxFrameSize, (uint)_limits.MaxFrameSize),
            new(Http2SettingId.EnablePush, 0),
            new(Http2SettingId.HeaderTableSize, (uint)_limits.HeaderTableSize),
        ];
        _writer.Queue(settings, static (w, s) => FrameWriter.WriteSettings(w, s));
        _deadlines.SettingsSent();
        if (_limits.ConnectionWindow > 65535)
        {
            _writer.QueueWindowUpdate(0, _limits.ConnectionWindow - 65535);
            _receiveWindow = _limits.ConnectionWindow;
        }
    }

    private async ValueTask<Http2Error> ReadLoopAsync()
    {
        CancellationToken token = _readCancel.Token;
        if (_initial.Length > 0)
        {
            RentReadBuffer();
            _initial.CopyTo(_readBuffer!, 0);
            _readCount = _initial.Length;
        }

        while (true)
        {
            if (_readCount > 0)
            {
                Http2Error error = ProcessBuffer();
                await _writer.SendQueuedAsync().ConfigureAwait(false);
                if (error.IsError)
                {
                    return error;
                }
            }

            if (_readCount == 0)
            {
                ReturnReadBuffer();
                if (_transport is SocketTransport plain)
                {
                    // The socket's zero-byte read awaited as is: an idle connection then keeps no conversion state machine (120 B).
                    await plain.Socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, token).ConfigureAwait(false);
                }
                else
                {
                    await _transport.WaitForDataAsync(token).ConfigureAwait(false);
                }

                RentReadBuffer();
            }

            int n = await _transport.ReceiveAsync(_readBuffer.AsMemory(_readCount), token).ConfigureAwait(false);
            if (n == 0)
            {
                EndDetail = "the client closed the connection";
                return Http2Error.None;
            }

            _readCount += n;
        }
    }

    /// <summary>Handles the preface and every complete frame in the read buffer, then moves what is left to its start.</summary>
    private Http2Error ProcessBuffer()
    {
        byte[] buffer = _readBuffer!;
        int offset = 0;
        Http2Error error = Http2Error.None;
        if (!_prefaceSeen)
        {
            int compared = Math.Min(_readCount, Http2Protocol.ClientPrefaceLength);
            if (!buffer.AsSpan(0, compared).SequenceEqual(Http2Protocol.ClientPreface[..compared]))
            {
                return Http2Error.Connection(Http2ErrorCode.ProtocolError, "no client preface");
            }

            if (compared < Http2Protocol.ClientPrefaceLength)
            {
                return Http2Error.None;
            }

            _prefaceSeen = true;
            offset = compared;
        }

        while (!error.IsError && FrameHeader.TryRead(buffer.AsSpan(offset, _readCount - offset), out FrameHeader header))
        {
            if (header.Length > _limits.MaxFrameSize)
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

    private void RentReadBuffer() => _readBuffer ??= ArrayPool<byte>.Shared.Rent(FrameHeader.Size + _limits.MaxFrameSize);

    private void ReturnReadBuffer()
    {
        if (_readBuffer is not null && _readCount == 0)
        {
            ArrayPool<byte>.Shared.Return(_readBuffer);
            _readBuffer = null;
        }
    }

    /// <summary>Ends the connection: GOAWAY (with the error's code, or NO_ERROR), abort the streams left, wait for the handlers.</summary>
    private async Task EndAsync(Http2Error error)
    {
        List<Http2ServerStream> left;
        lock (_sync)
        {
            _ended = true;
            if (error.IsError)
            {
                ErrorCode = error.Code;
                _writer.QueueGoAway(_lastStreamId, error.Code);
            }
            else if (!_goAwaySent)
            {
                _writer.QueueGoAway(_lastStreamId, Http2ErrorCode.NoError);
            }

            _goAwaySent = true;
            left = [.. _streams.Values];
            foreach (Http2ServerStream stream in left)
            {
                stream.ResetCode ??= Http2ErrorCode.Cancel;
                CloseLocked(stream);
                stream.FireAborted();
            }
        }

        if (error.IsError)
        {
            _log?.LogDebug("HTTP/2 connection error {Code}: {Detail}", error.Code, error.Detail);
        }

        await FlushQuietlyAsync().ConfigureAwait(false);
        try
        {
            await _transport.ShutdownSendAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or System.Net.Sockets.SocketException or InvalidOperationException)
        {
        }

        if (Interlocked.Decrement(ref _handlers) == 0)
        {
            _handlersDone.TrySetResult();
        }

        await _handlersDone.Task.ConfigureAwait(false);
    }

    private async Task FlushQuietlyAsync(bool waitSent = true)
    {
        try
        {
            await (waitSent ? _writer.FlushAsync() : _writer.SendQueuedAsync()).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or System.Net.Sockets.SocketException or InvalidOperationException)
        {
        }
    }

    /// <summary>A message for a new stream: one a finished stream left, or a new one (the caller holds the lock).</summary>
    private Http2Message RentMessageLocked() => _messages.TryPop(out Http2Message? message) ? message : new Http2Message();

    /// <summary>
    /// Keeps a finished stream's message for a later stream, as an HTTP/1.1 connection keeps its own across requests
    /// (the handler returned and the engine let go of it); at most <see cref="KeptMessages"/>. They are kept when no
    /// stream is open too: a client sends its next requests once it has the answers, so a busy connection reaches no
    /// open stream between every batch (dropping them then cost 40% more CPU per request under h2load).
    /// </summary>
    private void ReturnMessage(Http2Message message)
    {
        lock (_sync)
        {
            // The stream object goes with it only for the engine's handlers, which keep nothing of a finished stream.
            if (!HandlerFinishesStreams || message.Stream is { Reusable: false })
            {
                message.Stream = null;
            }

            if (_messages.Count < KeptMessages)
            {
                _messages.Push(message);
            }
        }
    }

    /// <summary>After a GOAWAY either way, stops reading once no stream is left (the caller holds the lock).</summary>
    private void StopIfIdleLocked()
    {
        if ((_goAwaySent || _peerGoAway) && _streams.Count == 0 && !_ended)
        {
            _ = _readCancel.CancelAsync();
        }
    }

    /// <summary>
    /// Starts the handler of a new stream on the reader's thread: it runs until its first wait (for the server, most of
    /// the time), then goes on where that wait completes, and the reader reads the next frame. Handlers never block.
    /// </summary>
    private void StartHandler(Http2ServerStream stream)
    {
        Interlocked.Increment(ref _handlers);
        if (HandlerFinishesStreams && !stream.HeadTooLarge)
        {
            // The handler calls HandlerFinished itself at its end: no state machine here to wait for it.
            _ = _handler(stream);
            return;
        }

        _ = RunHandlerAsync(stream);
    }

    /// <summary>
    /// True when the handler never throws and, once it is done with a stream, calls <see cref="Http2ServerStream.HandlerFinished"/>
    /// (the engine's runners do; one awaiting state machine less per stream). False: the connection awaits the handler.
    /// </summary>
    public bool HandlerFinishesStreams { get; init; }

    /// <summary>The end of a stream's handler: the stream is reset if its response did not end, its message is kept.</summary>
    internal void FinishHandler(Http2ServerStream stream, bool failed)
    {
        OnHandlerDone(stream, failed);
        ReturnMessage(stream.Message);
        if (Interlocked.Decrement(ref _handlers) == 0)
        {
            _handlersDone.TrySetResult();
        }
    }

    private async Task RunHandlerAsync(Http2ServerStream stream)
    {
        bool failed = false;
        try
        {
            if (stream.HeadTooLarge)
            {
                await stream.WriteResponseHeadAsync(431, null, endStream: true, stream.Aborted).ConfigureAwait(false);
            }
            else
            {
                await _handler(stream).ConfigureAwait(false);
            }
        }
        catch (Exception e)
        {
            failed = true;
            if (e is not OperationCanceledException || !stream.IsAborted)
            {
                _log?.LogDebug(e, "HTTP/2 stream {Stream} handler failed", stream.Id);
            }
        }

        FinishHandler(stream, failed);
    }
}
