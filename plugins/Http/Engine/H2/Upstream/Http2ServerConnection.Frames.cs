using System.Buffers;
using PluginProxy.Http.Codec.H2;

namespace PluginProxy.Http.Engine.H2.Upstream;

/// <summary>The frames the server sends (RFC 9113 §6), handled by the reader loop.</summary>
internal sealed partial class Http2ServerConnection
{
    private readonly ArrayBufferWriter<byte> _block = new(1024);
    private int _blockStream;
    private bool _blockEndStream;
    private bool _settingsReceivedFlag;

    /// <summary>How many SETTINGS frames were applied (under the lock): a DATA frame reserved its window under the same count, or reserves again.</summary>
    private int _settingsApplied;

    private Http2Error OnFrame(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (_blockStream != 0 && (header.Type != Http2FrameType.Continuation || header.StreamId != _blockStream))
        {
            return Http2Error.Connection(Http2ErrorCode.ProtocolError, "a frame between HEADERS and its CONTINUATION");
        }

        lock (_sync)
        {
            if (!_settingsReceivedFlag && header.Type != Http2FrameType.Settings)
            {
                return Http2Error.Connection(Http2ErrorCode.ProtocolError, "the server's first frame is not SETTINGS");
            }
        }

        Http2Error error = header.Type switch
        {
            Http2FrameType.Data => OnData(header, payload),
            Http2FrameType.Headers => OnHeaders(header, payload),
            Http2FrameType.Continuation => OnContinuation(header, payload),
            Http2FrameType.RstStream => OnRstStream(header, payload),
            Http2FrameType.Settings => OnSettings(header, payload),
            Http2FrameType.Ping => OnPing(header, payload),
            Http2FrameType.GoAway => OnGoAway(header, payload),
            Http2FrameType.WindowUpdate => OnWindowUpdate(header, payload),
            Http2FrameType.Priority => FramePayloads.ReadPriority(header, payload, out _) is { Scope: Http2ErrorScope.Connection } e ? e : Http2Error.None,
            Http2FrameType.PushPromise => Http2Error.Connection(Http2ErrorCode.ProtocolError, "PUSH_PROMISE though we disabled push"),
            _ => Http2Error.None,
        };
        if (error.Scope == Http2ErrorScope.Stream)
        {
            StreamErrorFromServer(header.StreamId, error);
            return Http2Error.None;
        }

        return error;
    }

    /// <summary>True for a stream id we never opened (the caller holds the lock).</summary>
    private bool IsIdleLocked(int streamId) => streamId > _lastSentStreamId || streamId % 2 == 0;

    private Http2Error OnData(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        Http2Error error = FramePayloads.ReadData(header, payload, out DataPayload data);
        if (error.IsError)
        {
            return error;
        }

        ReadOnlySpan<byte> bytes = payload[data.Data];
        lock (_sync)
        {
            if (IsIdleLocked(header.StreamId))
            {
                return Http2Error.Connection(Http2ErrorCode.ProtocolError, "DATA on an idle stream");
            }

            if (header.Length > _receiveWindow)
            {
                return Http2Error.Connection(Http2ErrorCode.FlowControlError, "DATA beyond the connection window");
            }

            _receiveWindow -= header.Length;
            _streams.TryGetValue(header.StreamId, out Http2ClientStream? stream);
            if (stream is null || stream.RemoteEnded)
            {
                // A stream closed or reset: give its connection window back at once.
                GiveBackLocked(header.Length);
                return stream is null ? Http2Error.None : Http2Error.Stream(Http2ErrorCode.StreamClosed, "DATA after END_STREAM");
            }

            GiveBackLocked(header.Length - bytes.Length);
            if (!stream.FinalHeadReceived)
            {
                GiveBackLocked(bytes.Length);
                return Http2Error.Stream(Http2ErrorCode.ProtocolError, "DATA before the response head");
            }

            if (!stream.Buffer.TryWrite(bytes))
            {
                GiveBackLocked(bytes.Length);
                return Http2Error.Stream(Http2ErrorCode.FlowControlError, "DATA beyond the stream window");
            }

            stream.ReceivedLength += bytes.Length;
            int padding = header.Length - bytes.Length;
            if (padding > 0 && !header.HasFlag(Http2FrameFlags.EndStream))
            {
                // Padding counts against the stream window too (RFC 9113 §6.9.1) but never reaches the buffer: give it
                // back with the data the reader frees, or the server's view of the window shrinks for good.
                stream.StreamCredit += padding;
                if (stream.StreamCredit >= _options.StreamWindow / 2)
                {
                    _writer.QueueWindowUpdate(stream.Id, stream.StreamCredit);
                    stream.StreamCredit = 0;
                }
            }

            if (stream.ExpectedLength is long expected && stream.ReceivedLength > expected)
            {
                return Http2Error.Stream(Http2ErrorCode.ProtocolError, "more DATA than content-length");
            }

            if (header.HasFlag(Http2FrameFlags.EndStream))
            {
                if (stream.ExpectedLength is long length && stream.ReceivedLength != length)
                {
                    return Http2Error.Stream(Http2ErrorCode.ProtocolError, "less DATA than content-length");
                }

                RemoteEndLocked(stream);
            }

            stream.SignalLocked();
        }

        return Http2Error.None;
    }

    private Http2Error OnHeaders(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        Http2Error error = FramePayloads.ReadHeaders(header, payload, out HeadersPayload headers);
        if (error.Scope == Http2ErrorScope.Connection)
        {
            return error;
        }

        lock (_sync)
        {
            if (IsIdleLocked(header.StreamId))
            {
                return Http2Error.Connection(Http2ErrorCode.ProtocolError, "HEADERS on a stream we did not open");
            }
        }

        _block.ResetWrittenCount();
        _blockEndStream = header.HasFlag(Http2FrameFlags.EndStream);
        _block.Write(payload[headers.Fragment]);
        if (!header.HasFlag(Http2FrameFlags.EndHeaders))
        {
            _blockStream = header.StreamId;
            return Http2Error.None;
        }

        return OnHeaderBlock(header.StreamId);
    }

    private Http2Error OnContinuation(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (_blockStream == 0)
        {
            return Http2Error.Connection(Http2ErrorCode.ProtocolError, "CONTINUATION without HEADERS");
        }

        Http2Error error = FramePayloads.ReadContinuation(header, payload, out Range fragment);
        if (error.IsError)
        {
            return error;
        }

        if (_block.WrittenCount + payload[fragment].Length > _options.MaxHeaderBlockSize)
        {
            return Http2Error.Connection(Http2ErrorCode.EnhanceYourCalm, "a header block above the limit");
        }

        _block.Write(payload[fragment]);
        if (!header.HasFlag(Http2FrameFlags.EndHeaders))
        {
            return Http2Error.None;
        }

        _blockStream = 0;
        return OnHeaderBlock(header.StreamId);
    }

    private Http2Error OnRstStream(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        Http2Error error = FramePayloads.ReadRstStream(header, payload, out Http2ErrorCode code);
        if (error.IsError)
        {
            return error;
        }

        Http2ClientStream? stream;
        lock (_sync)
        {
            if (IsIdleLocked(header.StreamId))
            {
                return Http2Error.Connection(Http2ErrorCode.ProtocolError, "RST_STREAM on an idle stream");
            }

            if (!_streams.TryGetValue(header.StreamId, out stream))
            {
                return Http2Error.None;
            }

            if (code == Http2ErrorCode.NoError && stream.RemoteEnded)
            {
                // §8.1: the response is complete and the server does not want the rest of the request.
                stream.RequestDiscarded = true;
                stream.LocalEnded = true;
                CloseLocked(stream);
                WakeWindowWaitersLocked();
                return Http2Error.None;
            }

            AbortLocked(stream, code, code == Http2ErrorCode.RefusedStream, $"reset by the server ({code})");
        }

        stream.FireAborted();
        return Http2Error.None;
    }

    private Http2Error OnSettings(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        Http2Error error = FramePayloads.CheckSettings(header);
        if (error.IsError || header.HasFlag(Http2FrameFlags.Ack))
        {
            return error;
        }

        lock (_sync)
        {
            uint oldWindow = _peer.InitialWindowSize;
            error = _peer.Apply(payload);
            if (error.IsError)
            {
                return error;
            }

            long delta = (long)_peer.InitialWindowSize - oldWindow;
            foreach (Http2ClientStream stream in _streams.Values)
            {
                stream.SendWindow += delta;
                if (stream.SendWindow > Http2Protocol.MaxWindowSize)
                {
                    return Http2Error.Connection(Http2ErrorCode.FlowControlError, "SETTINGS_INITIAL_WINDOW_SIZE overflows a stream window");
                }
            }

            _writer.PeerMaxFrameSize = (int)_peer.MaxFrameSize;
            _writer.SetPeerTableSize(_peer.HeaderTableSize);
            _writer.Queue(0, static (w, _) => FrameWriter.WriteSettingsAck(w));
            _settingsApplied++;
            _settingsReceivedFlag = true;
            WakeWindowWaitersLocked();
        }

        _settingsReceived.TrySetResult();
        return Http2Error.None;
    }

    private Http2Error OnPing(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        Http2Error error = FramePayloads.ReadPing(header, payload, out ulong opaque);
        if (!error.IsError && !header.HasFlag(Http2FrameFlags.Ack))
        {
            _writer.Queue(opaque, static (w, o) => FrameWriter.WritePing(w, o, ack: true));
        }

        return error;
    }

    private Http2Error OnGoAway(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        Http2Error error = FramePayloads.ReadGoAway(header, payload, out GoAwayPayload goAway);
        if (error.IsError)
        {
            return error;
        }

        var refused = new List<Http2ClientStream>();
        lock (_sync)
        {
            _peerGoAway = true;
            _goAwayLastId = Math.Min(_goAwayLastId, goAway.LastStreamId);
            if (goAway.ErrorCode != Http2ErrorCode.NoError)
            {
                ErrorCode = goAway.ErrorCode;
            }

            foreach (Http2ClientStream stream in _streams.Values)
            {
                if (stream.Id > _goAwayLastId)
                {
                    refused.Add(stream);
                }
            }

            refused.AddRange(_unsent);
            foreach (Http2ClientStream stream in refused)
            {
                AbortLocked(stream, goAway.ErrorCode, true, $"not processed by the server (GOAWAY {goAway.ErrorCode}, last stream {goAway.LastStreamId})");
            }

            WakeWindowWaitersLocked();
            StopIfIdleLocked();
        }

        foreach (Http2ClientStream stream in refused)
        {
            stream.FireAborted();
        }

        return Http2Error.None;
    }

    private Http2Error OnWindowUpdate(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        Http2Error error = FramePayloads.ReadWindowUpdate(header, payload, out int increment);
        if (error.IsError)
        {
            return error;
        }

        lock (_sync)
        {
            if (header.StreamId == 0)
            {
                _sendWindow += increment;
                if (_sendWindow > Http2Protocol.MaxWindowSize)
                {
                    return Http2Error.Connection(Http2ErrorCode.FlowControlError, "the connection send window above 2^31-1");
                }
            }
            else if (IsIdleLocked(header.StreamId))
            {
                return Http2Error.Connection(Http2ErrorCode.ProtocolError, "WINDOW_UPDATE on an idle stream");
            }
            else if (_streams.TryGetValue(header.StreamId, out Http2ClientStream? stream))
            {
                stream.SendWindow += increment;
                if (stream.SendWindow > Http2Protocol.MaxWindowSize)
                {
                    return Http2Error.Stream(Http2ErrorCode.FlowControlError, "a stream send window above 2^31-1");
                }
            }

            WakeWindowWaitersLocked();
        }

        return Http2Error.None;
    }

    /// <summary>A stream error found in what the server sent: RST_STREAM with its code, the stream aborted.</summary>
    private void StreamErrorFromServer(int streamId, Http2Error error)
    {
        Http2ClientStream? stream;
        lock (_sync)
        {
            _streams.TryGetValue(streamId, out stream);
            if (stream is null)
            {
                _writer.QueueRstStream(streamId, error.Code);
                return;
            }
        }

        ResetStream(stream, error.Code, $"stream error {error.Code}: {error.Detail}");
    }

    /// <summary>
    /// Gives <paramref name="bytes"/> of the connection receive window back (WINDOW_UPDATE once half a window is owed);
    /// true when a WINDOW_UPDATE was queued.
    /// </summary>
    private bool GiveBackLocked(int bytes)
    {
        _connectionCredit += bytes;
        if (_connectionCredit > 0 && _connectionCredit >= _options.ConnectionWindow / 2)
        {
            _writer.QueueWindowUpdate(0, _connectionCredit);
            _receiveWindow += _connectionCredit;
            _connectionCredit = 0;
            return true;
        }

        return false;
    }

    private void WakeWindowWaitersLocked()
    {
        _windowSignal?.TrySetResult();
        _windowSignal = null;
    }
}
