using System.Buffers;
using System.Text;
using PluginProxy.Abstractions;
using PluginProxy.Http.Codec.H2;

namespace PluginProxy.Http.Engine.H2;

/// <summary>
/// The one way out of an HTTP/2 connection, to a client or to a server: every frame goes through it, one write at a time (the transport allows one
/// pending send). Control frames (ACKs, RST_STREAM, WINDOW_UPDATE, GOAWAY) are queued by whoever makes them and go out
/// with the next send; a head (HEADERS and its CONTINUATION frames) is encoded and written whole under the write lock
/// (<see cref="Gate"/>), so no other frame comes between them and the HPACK state follows the order of the blocks on the
/// wire. Frames are written under the lock and sent after it (<see cref="SendWrittenAsync"/>): the lock is held for
/// microseconds and never across a wait, so a stream that finds it taken waits on its own thread instead of resuming on
/// another one later.
/// </summary>
internal sealed class Http2Writer : IEndOfBatchWork
{
    private readonly Transport _transport;
    private readonly Lock _gate = new();
    private readonly Lock _queueLock = new();
    private readonly HpackEncoder _encoder;
    private readonly ArrayBufferWriter<byte> _block = new(1024);
    private readonly Http2Deadlines? _deadlines;
    private readonly CancellationTokenSource _abort = new();
    /// <summary>Past this many bytes waiting to go out, writers wait for the socket.</summary>
    private const int HighWater = 256 * 1024;

    private ArrayBufferWriter<byte> _queue = new(256);
    private ArrayBufferWriter<byte> _out = new(256);
    private ArrayBufferWriter<byte> _sending = new(256);
    private TaskCompletionSource? _drained;
    private bool _flushing;
    private uint? _peerTableSize;
    private volatile bool _failed;

    /// <param name="transport">The connection: to a client (server role) or to a server (client role).</param>
    /// <param name="encoderTableSize">The most our HPACK encoder's dynamic table may use.</param>
    /// <param name="deadlines">Told when each write starts and ends (the write timeout), or null for no write deadline.</param>
    public Http2Writer(Transport transport, int encoderTableSize, Http2Deadlines? deadlines = null)
    {
        _transport = transport;
        _deadlines = deadlines;
        _encoder = new HpackEncoder(encoderTableSize);
    }

    /// <summary>The largest frame payload the client accepts (its SETTINGS_MAX_FRAME_SIZE).</summary>
    public int PeerMaxFrameSize { get; set; } = Http2Protocol.MinMaxFrameSize;

    /// <summary>True once a send failed: the connection is gone.</summary>
    public bool Failed => _failed;

    /// <summary>Fails the pending write (its token is cancelled) and every later one: the write timeout passed.</summary>
    public void Abort()
    {
        _failed = true;
        _ = _abort.CancelAsync();
    }

    /// <summary>Records the client's SETTINGS_HEADER_TABLE_SIZE; the encoder takes it before its next block.</summary>
    public void SetPeerTableSize(uint size)
    {
        lock (_queueLock)
        {
            _peerTableSize = size;
        }
    }

    /// <summary>Queues a control frame; <paramref name="write"/> writes it into the queue.</summary>
    public void Queue<TState>(TState state, Action<IBufferWriter<byte>, TState> write)
    {
        lock (_queueLock)
        {
            write(_queue, state);
        }
    }

    /// <summary>Queues a RST_STREAM frame.</summary>
    public void QueueRstStream(int streamId, Http2ErrorCode code)
        => Queue((streamId, code), static (w, s) => FrameWriter.WriteRstStream(w, s.streamId, s.code));

    /// <summary>Queues a WINDOW_UPDATE frame.</summary>
    public void QueueWindowUpdate(int streamId, int increment)
        => Queue((streamId, increment), static (w, s) => FrameWriter.WriteWindowUpdate(w, s.streamId, s.increment));

    /// <summary>Queues a GOAWAY frame.</summary>
    public void QueueGoAway(int lastStreamId, Http2ErrorCode code)
        => Queue((lastStreamId, code), static (w, s) => FrameWriter.WriteGoAway(w, s.lastStreamId, s.code));

    /// <summary>The write lock: held while a stream's state changes and its frames are written (the <c>…Locked</c> methods); send after it with <see cref="SendWrittenAsync"/>.</summary>
    public Lock Gate => _gate;

    /// <summary>
    /// Sends the queued control frames (ACKs, WINDOW_UPDATE) with the output, without the write lock and without waiting
    /// for the output to go out, unless it is above <see cref="HighWater"/> (a client that sends without reading).
    /// </summary>
    public ValueTask SendQueuedAsync() => SendQueued(waitAll: false);

    /// <summary>Sends the queued control frames, and waits until everything written so far went out.</summary>
    public ValueTask FlushAsync() => SendQueued(waitAll: true);

    private ValueTask SendQueued(bool waitAll)
    {
        lock (_queueLock)
        {
            TakeQueueLocked();
            if (_out.WrittenCount == 0 && !(waitAll && _flushing))
            {
                return _failed ? ValueTask.FromException(new IOException("the HTTP/2 connection is closed")) : ValueTask.CompletedTask;
            }
        }

        return new ValueTask(SendOutAsync(waitAll));
    }

    /// <summary>
    /// Sends what was written (after the write lock is released). Returns at once unless the output is above
    /// <see cref="HighWater"/> (then when it is below it again).
    /// </summary>
    /// <param name="defer">True when other streams may write soon too: the send waits for the end of this socket event
    /// thread's batch (<see cref="EndOfBatch"/>), so that the answers that arrived together go out in one write.</param>
    public ValueTask SendWrittenAsync(bool defer = false) => new(SendOutAsync(waitAll: false, defer));

    /// <summary>Encodes <paramref name="fields"/> and writes them as HEADERS and CONTINUATION frames; the caller holds the write lock.</summary>
    /// <param name="streamId">The stream.</param>
    /// <param name="fields">The head.</param>
    /// <param name="endStream">True when the head ends the stream.</param>
    public void WriteHeadersLocked(int streamId, Http2FieldList fields, bool endStream)
    {
        BeginBlock();
        for (int i = 0; i < fields.Count; i++)
        {
            _encoder.EncodeField(_block, fields.Name(i), fields.Value(i), fields.NeverIndex(i));
        }

        WriteBlockLocked(streamId, endStream);
    }

    /// <summary>Starts sending what is written and not sent yet (a held head whose data must wait for window).</summary>
    public void Kick() => _ = SendOutAsync(waitAll: false);

    /// <summary>
    /// Encodes <paramref name="fields"/> (lowercase names, pseudo-fields first, already checked: a request to a server)
    /// and writes them as HEADERS and CONTINUATION frames after the queued control frames (the preface and SETTINGS come
    /// first on a new connection); the caller holds the write lock.
    /// </summary>
    public void WriteHeadersLocked(int streamId, IReadOnlyList<KeyValuePair<string, string>> fields, bool endStream)
    {
        BeginBlock();
        byte[] scratch = ArrayPool<byte>.Shared.Rent(256);
        try
        {
            foreach (KeyValuePair<string, string> field in fields)
            {
                int need = field.Key.Length + field.Value.Length;
                if (scratch.Length < need)
                {
                    ArrayPool<byte>.Shared.Return(scratch);
                    scratch = ArrayPool<byte>.Shared.Rent(need);
                }

                int nameLength = Encoding.Latin1.GetBytes(field.Key, scratch);
                int valueLength = Encoding.Latin1.GetBytes(field.Value, scratch.AsSpan(nameLength));
                _encoder.EncodeField(_block, scratch.AsSpan(0, nameLength), scratch.AsSpan(nameLength, valueLength));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }

        WriteBlockLocked(streamId, endStream);
    }

    /// <summary>Starts a field block, applying the peer's new table size first if it sent one.</summary>
    private void BeginBlock()
    {
        uint? tableSize;
        lock (_queueLock)
        {
            tableSize = _peerTableSize;
            _peerTableSize = null;
        }

        if (tableSize is uint size)
        {
            _encoder.SetPeerMaxTableSize(size);
        }

        _block.ResetWrittenCount();
        _encoder.BeginBlock(_block);
    }

    /// <summary>Writes the encoded block as HEADERS and CONTINUATION frames, after the queued control frames.</summary>
    private void WriteBlockLocked(int streamId, bool endStream)
    {
        int frameSize = Math.Min(PeerMaxFrameSize, Http2Protocol.MinMaxFrameSize);
        lock (_queueLock)
        {
            ThrowIfFailed();
            TakeQueueLocked();
            int total = FrameWriter.HeadersSize(_block.WrittenCount, frameSize);
            _out.Advance(FrameWriter.WriteHeaders(_out.GetSpan(total), streamId, _block.WrittenSpan, endStream, frameSize));
        }
    }

    /// <summary>Writes one DATA frame (the caller took the flow-control window for it); the caller holds the write lock.</summary>
    public void WriteDataLocked(int streamId, ReadOnlyMemory<byte> data, bool endStream)
    {
        lock (_queueLock)
        {
            ThrowIfFailed();
            TakeQueueLocked();
            FrameWriter.WriteData(_out, streamId, data.Span, endStream);
        }
    }

    /// <summary>Moves the queued control frames to the output, in front of what is written next (the caller holds the queue lock).</summary>
    private void TakeQueueLocked()
    {
        if (_queue.WrittenCount > 0)
        {
            _out.Write(_queue.WrittenSpan);
            _queue.ResetWrittenCount();
            if (_queue.Capacity > 64 * 1024)
            {
                _queue = new ArrayBufferWriter<byte>(256);
            }
        }
    }

    private void ThrowIfFailed()
    {
        if (_failed)
        {
            throw new IOException("the HTTP/2 connection is closed");
        }
    }

    /// <summary>
    /// Makes sure the output goes out. Frames written while a send is in progress go out together with the next one, so
    /// streams answering at the same time share system calls. Returns at once unless <paramref name="waitAll"/> (then when
    /// everything written so far is sent) or the output is above <see cref="HighWater"/> (then when it is below it again:
    /// a client that does not read holds back the writers, and their memory).
    /// </summary>
    private Task SendOutAsync(bool waitAll, bool defer = false)
    {
        Task? wait = null;
        bool start = false;
        lock (_queueLock)
        {
            if (!_flushing && _out.WrittenCount > 0)
            {
                _flushing = true;
                start = true;
            }

            if (waitAll || _out.WrittenCount > HighWater)
            {
                wait = (_drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
        }

        if (start && !(defer && !waitAll && EndOfBatch.TryDefer(this)))
        {
            Task loop = SendLoopAsync();
            if (loop.IsFaulted && wait is null)
            {
                return loop;
            }
        }

        return wait is null ? Task.CompletedTask : WaitDrainedAsync(wait);
    }

    /// <summary>The send put off to the end of the batch (<see cref="SendWrittenAsync"/>).</summary>
    void IEndOfBatchWork.Run() => _ = SendLoopAsync();

    private async Task WaitDrainedAsync(Task drained)
    {
        await drained.ConfigureAwait(false);
        ThrowIfFailed();
    }

    /// <summary>Sends the output until it is empty: one write for whatever accumulated since the previous one.</summary>
    private async Task SendLoopAsync()
    {
        while (true)
        {
            lock (_queueLock)
            {
                if (_out.WrittenCount == 0 || _failed)
                {
                    _flushing = false;
                    _drained?.TrySetResult();
                    _drained = null;
                    return;
                }

                (_out, _sending) = (_sending, _out);
            }

            try
            {
                await SendAsync(_sending.WrittenMemory).ConfigureAwait(false);
            }
            catch (Exception) when (_failed)
            {
                // The connection is gone: the writers learn it at their next write, the reader at its next read.
                try
                {
                    _transport.Dispose();
                }
                catch (ObjectDisposedException)
                {
                    // Already closed.
                }
            }
            finally
            {
                _sending.ResetWrittenCount();
                if (_sending.Capacity > 64 * 1024)
                {
                    _sending = new ArrayBufferWriter<byte>(256);
                }
            }
        }
    }

    private async ValueTask SendAsync(ReadOnlyMemory<byte> bytes)
    {
        if (_failed)
        {
            throw new IOException("the HTTP/2 connection is closed");
        }

        _deadlines?.WriteStarted();
        try
        {
            await _transport.SendAsync(bytes, _abort.Token).ConfigureAwait(false);
        }
        catch
        {
            _failed = true;
            throw;
        }
        finally
        {
            _deadlines?.WriteDone();
        }
    }
}
