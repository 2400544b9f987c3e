using PluginProxy.Http.Codec.H2;

namespace PluginProxy.Http.Engine.H2.Upstream;

/// <summary>Opening streams, sending requests and reading responses (RFC 9113 §5.1, §5.2, §8.1).</summary>
internal sealed partial class Http2ServerConnection
{
    private readonly HashSet<Http2ClientStream> _unsent = [];

    /// <summary>
    /// Opens a stream, or returns false when the connection cannot take one: the server's SETTINGS_MAX_CONCURRENT_STREAMS
    /// streams are open, a GOAWAY was sent or received, the stream ids ran out, or the connection ended. The stream
    /// counts against the limit at once; its id is given when its head goes out.
    /// </summary>
    public bool TryOpenStream(out Http2ClientStream stream)
    {
        lock (_sync)
        {
            long reserved = _nextStreamId + (2L * _unsent.Count);
            if (_ended || _peerGoAway || _goAwaySent || _activeStreams >= _peer.MaxConcurrentStreams || reserved > Http2Protocol.MaxStreamId)
            {
                stream = null!;
                return false;
            }

            // Until the server acknowledges our SETTINGS it may send the protocol's initial 65535 bytes per stream.
            stream = new Http2ClientStream(this, Math.Max(_options.StreamWindow, (int)Http2Settings.DefaultInitialWindowSize));
            _unsent.Add(stream);
            _activeStreams++;
            return true;
        }
    }

    internal async ValueTask WriteRequestHeadAsync(Http2ClientStream stream, List<KeyValuePair<string, string>> fields, bool endStream,
        bool headRequest, CancellationToken cancellationToken)
    {
        uint limit;
        lock (_sync)
        {
            limit = _peer.MaxHeaderListSize;
        }

        if (Http2RequestFields.ListSize(fields) > limit)
        {
            ResetStream(stream, Http2ErrorCode.Cancel, "the request head is above the server's SETTINGS_MAX_HEADER_LIST_SIZE");
            throw new ArgumentException($"the request head is above the server's SETTINGS_MAX_HEADER_LIST_SIZE ({limit})", nameof(fields));
        }

        cancellationToken.ThrowIfCancellationRequested();
        Http2ClientStream? refused = null;
        lock (_writer.Gate)
        {
            lock (_sync)
            {
                if (stream.HeadSent)
                {
                    throw new InvalidOperationException("the request head was already sent");
                }

                if (stream.IsAborted)
                {
                    throw stream.AbortedException();
                }

                if (_ended || _peerGoAway || _goAwaySent)
                {
                    AbortLocked(stream, ErrorCode, true, "the connection is closing (GOAWAY) or closed");
                    refused = stream;
                }
                else
                {
                    int id = _nextStreamId;
                    _nextStreamId += 2;
                    _lastSentStreamId = id;
                    stream.Id = id;
                    stream.SendWindow = _peer.InitialWindowSize;
                    stream.HeadSent = true;
                    stream.LocalEnded = endStream;
                    stream.IsHeadRequest = headRequest;
                    _unsent.Remove(stream);
                    _streams[id] = stream;
                }
            }

            if (refused is null)
            {
                _writer.WriteHeadersLocked(stream.Id, fields, endStream);
            }
        }

        if (refused is not null)
        {
            refused.FireAborted();
            throw refused.AbortedException();
        }

        await _writer.SendWrittenAsync().ConfigureAwait(false);
    }

    internal async ValueTask WriteDataAsync(Http2ClientStream stream, ReadOnlyMemory<byte> data, bool endStream, CancellationToken cancellationToken)
    {
        int offset = 0;
        do
        {
            int n;
            int settings;
            Task? wait = null;
            lock (_sync)
            {
                settings = _settingsApplied;
                if (!CheckWritableLocked(stream))
                {
                    return;
                }

                int remaining = data.Length - offset;
                long allowed = Math.Min(Math.Min(_sendWindow, stream.SendWindow), Math.Min(_writer.PeerMaxFrameSize, _options.MaxSendFrameSize));
                n = (int)Math.Max(0, Math.Min(remaining, allowed));
                if (remaining > 0 && n == 0)
                {
                    _windowSignal ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    wait = _windowSignal.Task;
                }
                else
                {
                    _sendWindow -= n;
                    stream.SendWindow -= n;
                }
            }

            if (wait is not null)
            {
                await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            bool last = endStream && offset + n == data.Length;
            if (n == 0 && !last)
            {
                return;
            }

            bool reserveAgain = false;
            lock (_writer.Gate)
            {
                lock (_sync)
                {
                    if (n > 0 && settings != _settingsApplied)
                    {
                        // The server's SETTINGS came in between, and their ACK is queued: it leaves in front of the next
                        // DATA, so that DATA must fit the windows they set. Reserve again under them.
                        _sendWindow += n;
                        stream.SendWindow += n;
                        reserveAgain = true;
                    }
                    else
                    {
                        if (stream.IsAborted || stream.RequestDiscarded)
                        {
                            // Not sent after all: the connection window is given back (the stream's no longer matters).
                            _sendWindow += n;
                        }

                        if (!CheckWritableLocked(stream))
                        {
                            return;
                        }

                        stream.LocalEnded = last;

                        // Written under the lock that applies SETTINGS: no ACK can be queued in front of it meanwhile.
                        _writer.WriteDataLocked(stream.Id, data.Slice(offset, n), last);
                    }
                }
            }

            if (reserveAgain)
            {
                continue;
            }

            await _writer.SendWrittenAsync().ConfigureAwait(false);

            offset += n;
            if (last)
            {
                lock (_sync)
                {
                    MaybeCloseLocked(stream);
                }
            }
        }
        while (offset < data.Length);
    }

    internal async ValueTask WriteTrailersAsync(Http2ClientStream stream, List<KeyValuePair<string, string>> trailers, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_writer.Gate)
        {
            lock (_sync)
            {
                if (!CheckWritableLocked(stream))
                {
                    return;
                }

                stream.LocalEnded = true;
            }

            _writer.WriteHeadersLocked(stream.Id, trailers, endStream: true);
        }

        await _writer.SendWrittenAsync().ConfigureAwait(false);

        lock (_sync)
        {
            MaybeCloseLocked(stream);
        }
    }

    /// <summary>
    /// Throws when the stream cannot be written; false when the server no longer wants the request (it reset the stream
    /// with NO_ERROR after a complete response, §8.1), so what is left is dropped. The caller holds the lock.
    /// </summary>
    private static bool CheckWritableLocked(Http2ClientStream stream)
    {
        if (stream.IsAborted)
        {
            throw stream.AbortedException();
        }

        if (stream.RequestDiscarded)
        {
            return false;
        }

        if (!stream.HeadSent || stream.LocalEnded)
        {
            throw new InvalidOperationException(stream.HeadSent ? "the request already ended" : "the request head was not sent");
        }

        return true;
    }

    internal async ValueTask<Http2UpstreamResponse> ReadResponseHeadAsync(Http2ClientStream stream, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (_sync)
            {
                if (stream.Response is { } response)
                {
                    return response;
                }

                if (stream.IsAborted)
                {
                    throw stream.AbortedException();
                }

                stream.ReadSignal ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = stream.ReadSignal.Task;
            }

            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    internal async ValueTask<int> ReadBodyAsync(Http2ClientStream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (true)
        {
            // One look under the lock decides between reading, the end and waiting, so data that arrives after the buffer
            // was seen empty finds the ReadSignal made here. (A second look under a second lock let it arrive in between
            // and signal nobody: the reader waited with the data buffered and the server for our WINDOW_UPDATE; or, on
            // END_STREAM, the reader returned 0 with the last data unread.)
            Task? wait = null;
            int n = 0;
            bool update = false;
            lock (_sync)
            {
                if (stream.FinalHeadReceived && stream.Buffer.Count > 0)
                {
                    n = stream.Buffer.Read(buffer.Span);
                    update = GiveBackLocked(n);
                    if (!stream.RemoteEnded && !stream.Closed)
                    {
                        stream.StreamCredit += n;
                        if (stream.StreamCredit >= _options.StreamWindow / 2)
                        {
                            _writer.QueueWindowUpdate(stream.Id, stream.StreamCredit);
                            stream.StreamCredit = 0;
                            update = true;
                        }
                    }
                }
                else if (stream.IsAborted)
                {
                    throw stream.AbortedException();
                }
                else if (stream.RemoteEnded)
                {
                    return 0;
                }
                else
                {
                    stream.ReadSignal ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    wait = stream.ReadSignal.Task;
                }
            }

            if (wait is null)
            {
                if (update)
                {
                    await FlushQuietlyAsync().ConfigureAwait(false);
                }

                return n;
            }

            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Resets <paramref name="stream"/> with <paramref name="code"/> (RST_STREAM when its head went out) unless it already ended.</summary>
    internal void ResetStream(Http2ClientStream stream, Http2ErrorCode code, string reason)
    {
        lock (_sync)
        {
            if (stream.Closed)
            {
                return;
            }

            if (stream.Id != 0 && !_ended)
            {
                _writer.QueueRstStream(stream.Id, code);
            }

            AbortLocked(stream, code, false, reason);
        }

        stream.FireAborted();
        _ = FlushQuietlyAsync();
    }

    /// <summary>Ends the caller's use of <paramref name="stream"/>: reset with CANCEL when still open, unread data dropped.</summary>
    internal void ReleaseStream(Http2ClientStream stream)
    {
        bool open;
        lock (_sync)
        {
            open = !stream.Closed;
            if (!open)
            {
                GiveBackLocked(stream.Buffer.Clear());
            }
        }

        if (open)
        {
            ResetStream(stream, Http2ErrorCode.Cancel, "released before it ended");
        }
        else
        {
            _ = FlushQuietlyAsync();
        }
    }

    /// <summary>
    /// Marks <paramref name="stream"/> aborted (unless it already completed), drops its unread data and closes it; the
    /// caller holds the lock and fires <see cref="Http2ClientStream.Aborted"/> after releasing it.
    /// </summary>
    private void AbortLocked(Http2ClientStream stream, Http2ErrorCode? code, bool refused, string reason)
    {
        if (stream.Closed && !stream.IsAborted && stream.LocalEnded && stream.RemoteEnded)
        {
            return;
        }

        if (stream.IsAborted)
        {
            return;
        }

        stream.AbortReason = reason;
        stream.ResetCode = code;
        stream.WasRefused = refused || stream.Id == 0;
        GiveBackLocked(stream.Buffer.Clear());
        stream.SignalLocked();
        CloseLocked(stream);
        WakeWindowWaitersLocked();
    }

    private void RemoteEndLocked(Http2ClientStream stream)
    {
        stream.RemoteEnded = true;
        MaybeCloseLocked(stream);
    }

    private void MaybeCloseLocked(Http2ClientStream stream)
    {
        if (stream.LocalEnded && stream.RemoteEnded)
        {
            CloseLocked(stream);
        }
    }

    private void CloseLocked(Http2ClientStream stream)
    {
        if (stream.Closed)
        {
            return;
        }

        stream.Closed = true;
        _unsent.Remove(stream);
        if (stream.Id != 0)
        {
            _streams.Remove(stream.Id);
        }

        _activeStreams--;
        StopIfIdleLocked();
    }
}
