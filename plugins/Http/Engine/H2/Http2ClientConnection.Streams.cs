using PluginProxy.Http.Codec.H2;

namespace PluginProxy.Http.Engine.H2;

/// <summary>
/// What <see cref="Http2ServerStream"/> does through its connection: reading the buffered request data (opening the
/// windows again), writing heads and DATA within the client's windows, resetting; and the stream state changes they and
/// the reader loop share (RFC 9113 §5.1, §5.2).
/// </summary>
internal sealed partial class Http2ClientConnection
{
    private enum HeadKind
    {
        Informational,
        Final,
        Trailers,
    }

    internal async ValueTask<int> ReadBodyAsync(Http2ServerStream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (true)
        {
            Task wait;
            int n;
            bool flush = false;
            lock (_sync)
            {
                n = stream.Received.Read(buffer.Span);
                if (n > 0)
                {
                    flush = AddCreditLocked(n);
                    if (!stream.EndReceived && stream.State != Http2StreamState.Closed)
                    {
                        stream.Credit += n;
                        flush |= StreamCreditLocked(stream);
                    }
                }
                else if (stream.EndReceived)
                {
                    return 0;
                }
                else if (stream.ResetCode is not null || stream.State == Http2StreamState.Closed)
                {
                    throw new OperationCanceledException("the HTTP/2 stream was reset", stream.Aborted);
                }

                wait = n > 0 ? Task.CompletedTask : (stream.ReadWaiter ??= NewWaiter()).Task;
            }

            if (n > 0)
            {
                if (flush)
                {
                    // The WINDOW_UPDATE goes out; the reader need not wait for it.
                    await FlushQuietlyAsync(waitSent: false).ConfigureAwait(false);
                }

                return n;
            }

            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    internal ValueTask WriteHeadAsync(Http2ServerStream stream, Http2FieldList fields, bool final, bool endStream, CancellationToken cancellationToken, bool dataFollows = false)
        => WriteBlockAsync(stream, fields, final ? HeadKind.Final : HeadKind.Informational, endStream, cancellationToken, dataFollows);

    internal ValueTask WriteTrailersAsync(Http2ServerStream stream, Http2FieldList fields, CancellationToken cancellationToken)
        => WriteBlockAsync(stream, fields, HeadKind.Trailers, endStream: true, cancellationToken);

    private ValueTask WriteBlockAsync(Http2ServerStream stream, Http2FieldList fields, HeadKind kind, bool endStream, CancellationToken cancellationToken,
        bool dataFollows = false)
    {
        cancellationToken.ThrowIfCancellationRequested();
        bool othersOpen;
        lock (_writer.Gate)
        {
            lock (_sync)
            {
                CheckCanSendLocked(stream);
                if (kind == HeadKind.Trailers ? !stream.ResponseStarted : stream.ResponseStarted)
                {
                    throw new InvalidOperationException(kind == HeadKind.Trailers
                        ? "trailers need a response head first"
                        : "the response head was already sent");
                }

                stream.ResponseStarted |= kind == HeadKind.Final;
                if (endStream)
                {
                    EndSentLocked(stream);
                }

                othersOpen = OthersOpenLocked(stream);
            }

            _writer.WriteHeadersLocked(stream.Id, fields, endStream);
        }

        // A head followed at once by data waits for it, to go out in the same write (TakeWindowAsync sends it if the data must wait).
        return dataFollows && !endStream ? ValueTask.CompletedTask : _writer.SendWrittenAsync(defer: othersOpen);
    }

    /// <summary>True when streams other than <paramref name="stream"/> are open: their answers may come soon, and go out with this one.</summary>
    private bool OthersOpenLocked(Http2ServerStream stream) => _streams.Count > (stream.State == Http2StreamState.Closed ? 0 : 1);

    internal async ValueTask WriteDataAsync(Http2ServerStream stream, ReadOnlyMemory<byte> data, bool endStream, CancellationToken cancellationToken)
    {
        if (data.IsEmpty && !endStream)
        {
            return;
        }

        do
        {
            int n = await TakeWindowAsync(stream, data.Length, cancellationToken).ConfigureAwait(false);
            bool last = endStream && n == data.Length;
            bool sending = false;
            bool othersOpen;
            try
            {
                lock (_writer.Gate)
                {
                    lock (_sync)
                    {
                        CheckCanSendLocked(stream);
                        sending = true;
                        if (last)
                        {
                            EndSentLocked(stream);
                        }

                        othersOpen = OthersOpenLocked(stream);
                    }

                    _writer.WriteDataLocked(stream.Id, data[..n], last);
                }
            }
            finally
            {
                if (!sending && n > 0)
                {
                    lock (_sync)
                    {
                        _sendWindow += n;
                        SendWindowChangedLocked();
                        WakeWindowWaitersLocked();
                    }
                }
            }

            await _writer.SendWrittenAsync(defer: othersOpen).ConfigureAwait(false);
            data = data[n..];
        }
        while (!data.IsEmpty);
    }

    /// <summary>Takes up to <paramref name="wanted"/> bytes of the connection's and the stream's send windows (one frame at most), waiting for WINDOW_UPDATE.</summary>
    private async ValueTask<int> TakeWindowAsync(Http2ServerStream stream, int wanted, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (_sync)
            {
                CheckCanSendLocked(stream);
                if (!stream.ResponseStarted)
                {
                    throw new InvalidOperationException("DATA needs a response head first");
                }

                if (wanted == 0)
                {
                    return 0;
                }

                long frame = Math.Min(wanted, Math.Min(_writer.PeerMaxFrameSize, _limits.MaxSendFrameSize));
                long available = Math.Min(frame, Math.Min(_sendWindow, stream.SendWindow));
                if (available > 0)
                {
                    _sendWindow -= available;
                    stream.SendWindow -= available;
                    stream.WindowWaitSince = null;
                    SendWindowChangedLocked();
                    if (_sendWindow > 0)
                    {
                        // Others may have waited for the connection window while this stream took it first.
                        WakeWindowWaitersLocked();
                    }

                    return (int)available;
                }

                WindowWaitLocked(stream);
                wait = (stream.WindowWaiter ??= NewWaiter()).Task;
                _windowWaiters = true;
            }

            // A head held for this data goes out now rather than wait with it.
            _writer.Kick();
            try
            {
                await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The writer gave up: it no longer waits (for the window stall deadline).
                lock (_sync)
                {
                    stream.WindowWaitSince = null;
                }

                throw;
            }
        }
    }

    private static void CheckCanSendLocked(Http2ServerStream stream)
    {
        if (stream.ResetCode is not null)
        {
            throw new OperationCanceledException("the HTTP/2 stream was reset", stream.Aborted);
        }

        if (stream.ResponseEnded)
        {
            throw new InvalidOperationException("the response already ended");
        }
    }

    internal void ResetStream(Http2ServerStream stream, Http2ErrorCode code)
    {
        lock (_sync)
        {
            if (stream.State == Http2StreamState.Closed)
            {
                return;
            }

            StreamErrorLocked(stream.Id, stream, code);
        }

        _ = FlushQuietlyAsync(waitSent: false);
    }

    /// <summary>
    /// The handler returned: a stream still open is reset (NO_ERROR when the response is complete and the client is still
    /// sending, INTERNAL_ERROR otherwise), and request data nobody will read gives its window back.
    /// </summary>
    private void OnHandlerDone(Http2ServerStream stream, bool failed)
    {
        lock (_sync)
        {
            if (stream.State == Http2StreamState.Closed)
            {
                AddCreditLocked(stream.Received.Clear());
            }
            else
            {
                StreamErrorLocked(stream.Id, stream, !failed && stream.ResponseEnded ? Http2ErrorCode.NoError : Http2ErrorCode.InternalError);
            }
        }

        // The RST_STREAM or WINDOW_UPDATE goes out (with the answers being sent, if any); nothing waits for it.
        _ = FlushQuietlyAsync(waitSent: false);
    }

    /// <summary>
    /// Request data of an open stream arrived; the reason to reset it ("window" or a PROTOCOL_ERROR), or null. On a
    /// reason, nothing of the frame was counted back: the caller gives its whole length back to the connection window.
    /// </summary>
    private string? ReceiveDataLocked(Http2ServerStream stream, int frameLength, ReadOnlySpan<byte> data, bool end)
    {
        if (frameLength > stream.ReceiveWindow)
        {
            return "window";
        }

        stream.ReceiveWindow -= frameLength;
        stream.DataReceived += data.Length;
        if (stream.Request.ContentLength is long length && (stream.DataReceived > length || (end && stream.DataReceived != length)))
        {
            return "content-length does not match the data";
        }

        if (!stream.Received.TryWrite(data))
        {
            return "window";
        }

        int padding = frameLength - data.Length;
        if (padding > 0)
        {
            AddCreditLocked(padding);
            stream.Credit += padding;
            StreamCreditLocked(stream);
        }

        if (end)
        {
            EndReceivedLocked(stream);
        }

        stream.ReadWaiter?.TrySetResult();
        stream.ReadWaiter = null;
        return null;
    }

    private void EndReceivedLocked(Http2ServerStream stream)
    {
        stream.EndReceived = true;
        if (stream.State == Http2StreamState.HalfClosedLocal)
        {
            CloseLocked(stream, discard: false);
        }
        else
        {
            stream.State = Http2StreamState.HalfClosedRemote;
        }

        stream.ReadWaiter?.TrySetResult();
        stream.ReadWaiter = null;
    }

    private void EndSentLocked(Http2ServerStream stream)
    {
        stream.ResponseEnded = true;
        if (stream.State == Http2StreamState.HalfClosedRemote)
        {
            CloseLocked(stream, discard: false);
        }
        else
        {
            stream.State = Http2StreamState.HalfClosedLocal;
        }
    }

    /// <summary>Resets a stream (RST_STREAM with <paramref name="code"/>): closes it and fires its token when we have it.</summary>
    private void StreamErrorLocked(int streamId, Http2ServerStream? stream, Http2ErrorCode code)
    {
        _writer.QueueRstStream(streamId, code);
        if (_resetByUs.Length > 0)
        {
            _resetByUs[_resetNext] = streamId;
            _resetNext = (_resetNext + 1) % _resetByUs.Length;
        }

        if (stream is not null && stream.State != Http2StreamState.Closed)
        {
            stream.ResetCode = code;
            CloseLocked(stream);
            stream.FireAborted();
        }
    }

    private bool WasResetByUs(int streamId) => Array.IndexOf(_resetByUs, streamId) >= 0;

    /// <summary>Closes a stream; <paramref name="discard"/> drops its unread data (giving the connection window back).</summary>
    private void CloseLocked(Http2ServerStream stream, bool discard = true)
    {
        if (stream.State == Http2StreamState.Closed)
        {
            return;
        }

        stream.State = Http2StreamState.Closed;
        _streams.Remove(stream.Id);
        if (_closed.Length > 0)
        {
            _closed[_closedNext] = stream.Id;
            _closedNext = (_closedNext + 1) % _closed.Length;
        }

        if (discard)
        {
            AddCreditLocked(stream.Received.Clear());
        }

        stream.WakeAll();
        if (_streams.Count == 0)
        {
            _deadlines.StartIdle();
        }

        StopIfIdleLocked();
    }

    /// <summary>Counts request bytes consumed or dropped; queues a connection WINDOW_UPDATE once half the window is owed. True when one was queued.</summary>
    private bool AddCreditLocked(int bytes)
    {
        _credit += bytes;
        if (_credit == 0 || _credit < Math.Max(1, _limits.ConnectionWindow / 2) || _ended)
        {
            return false;
        }

        _writer.QueueWindowUpdate(0, _credit);
        _receiveWindow += _credit;
        _credit = 0;
        return true;
    }

    private bool StreamCreditLocked(Http2ServerStream stream)
    {
        if (stream.Credit < Math.Max(1, _limits.StreamWindow / 2) || stream.EndReceived)
        {
            return false;
        }

        _writer.QueueWindowUpdate(stream.Id, stream.Credit);
        stream.ReceiveWindow += stream.Credit;
        stream.Credit = 0;
        return true;
    }

    /// <summary>Wakes every stream waiting for send window (they take it in turn and wait again if none is left).</summary>
    private void WakeWindowWaitersLocked()
    {
        // Every waiter is woken here, so none is left until one waits again: most DATA frames need no look at the streams.
        if (!_windowWaiters)
        {
            return;
        }

        _windowWaiters = false;
        foreach (Http2ServerStream waiting in _streams.Values)
        {
            waiting.WindowWaiter?.TrySetResult();
            waiting.WindowWaiter = null;
        }
    }

    private static TaskCompletionSource NewWaiter() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
