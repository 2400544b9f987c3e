using PluginProxy.Http.Codec.H2;

namespace PluginProxy.Http.Engine.H2;

/// <summary>The reader loop's handling of each frame type but the field blocks (RFC 9113 §5.1, §6).</summary>
internal sealed partial class Http2ClientConnection
{
    private Http2Error OnFrame(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (!_settingsSeen && (header.Type != Http2FrameType.Settings || header.HasFlag(Http2FrameFlags.Ack)))
        {
            return Http2Error.Connection(Http2ErrorCode.ProtocolError, "the client preface must end with SETTINGS");
        }

        if (_blockStream != 0 && (header.Type != Http2FrameType.Continuation || header.StreamId != _blockStream))
        {
            return Http2Error.Connection(Http2ErrorCode.ProtocolError, "frame between HEADERS and its CONTINUATION");
        }

        return header.Type switch
        {
            Http2FrameType.Data => OnData(header, payload),
            Http2FrameType.Headers => OnHeaders(header, payload),
            Http2FrameType.Continuation => OnContinuation(header, payload),
            Http2FrameType.Priority => OnPriority(header, payload),
            Http2FrameType.RstStream => OnRstStream(header, payload),
            Http2FrameType.Settings => OnSettings(header, payload),
            Http2FrameType.PushPromise => Http2Error.Connection(Http2ErrorCode.ProtocolError, "PUSH_PROMISE from a client"),
            Http2FrameType.Ping => OnPing(header, payload),
            Http2FrameType.GoAway => OnGoAway(header, payload),
            Http2FrameType.WindowUpdate => OnWindowUpdate(header, payload),
            _ => Http2Error.None,
        };
    }

    private bool IsIdle(int streamId) => streamId > _lastStreamId;

    private Http2Error OnData(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        Http2Error error = FramePayloads.ReadData(header, payload, out DataPayload data);
        if (error.IsError)
        {
            return error;
        }

        if (IsIdle(header.StreamId))
        {
            return Http2Error.Connection(Http2ErrorCode.ProtocolError, "DATA on an idle stream");
        }

        bool end = header.HasFlag(Http2FrameFlags.EndStream);
        if (header.Length == 0 && !end && _emptyFrames.Add())
        {
            return Http2Error.Connection(Http2ErrorCode.EnhanceYourCalm, "too many empty DATA frames");
        }

        lock (_sync)
        {
            if (header.Length > _receiveWindow)
            {
                return Http2Error.Connection(Http2ErrorCode.FlowControlError, "DATA beyond the connection window");
            }

            _receiveWindow -= header.Length;
            if (!_streams.TryGetValue(header.StreamId, out Http2ServerStream? stream) || stream.State == Http2StreamState.HalfClosedRemote)
            {
                AddCreditLocked(header.Length);
                if (stream is not null || !WasResetByUs(header.StreamId))
                {
                    StreamErrorLocked(header.StreamId, stream, Http2ErrorCode.StreamClosed);
                }

                return Http2Error.None;
            }

            string? problem = ReceiveDataLocked(stream, header.Length, payload[data.Data], end);
            if (problem is not null)
            {
                AddCreditLocked(header.Length);
                StreamErrorLocked(header.StreamId, stream, problem == "window" ? Http2ErrorCode.FlowControlError : Http2ErrorCode.ProtocolError);
            }
        }

        return Http2Error.None;
    }

    private Http2Error OnPriority(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        Http2Error error = FramePayloads.ReadPriority(header, payload, out _);
        if (error.Scope == Http2ErrorScope.Stream)
        {
            lock (_sync)
            {
                _streams.TryGetValue(header.StreamId, out Http2ServerStream? stream);
                StreamErrorLocked(header.StreamId, stream, error.Code);
            }

            return Http2Error.None;
        }

        return error;
    }

    private Http2Error OnRstStream(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        Http2Error error = FramePayloads.ReadRstStream(header, payload, out Http2ErrorCode code);
        if (error.IsError)
        {
            return error;
        }

        if (IsIdle(header.StreamId))
        {
            return Http2Error.Connection(Http2ErrorCode.ProtocolError, "RST_STREAM on an idle stream");
        }

        lock (_sync)
        {
            if (!_streams.TryGetValue(header.StreamId, out Http2ServerStream? stream))
            {
                return Http2Error.None;
            }

            stream.ResetCode = code;
            CloseLocked(stream);
            stream.FireAborted();
        }

        return _clientResets.Add()
            ? Http2Error.Connection(Http2ErrorCode.EnhanceYourCalm, "too many streams reset by the client (rapid reset)")
            : Http2Error.None;
    }

    private Http2Error OnSettings(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        Http2Error error = FramePayloads.CheckSettings(header);
        if (error.IsError)
        {
            return error;
        }

        if (header.HasFlag(Http2FrameFlags.Ack))
        {
            OnSettingsAck();
            return Http2Error.None;
        }

        _settingsSeen = true;
        if (_settingsFrames.Add())
        {
            return Http2Error.Connection(Http2ErrorCode.EnhanceYourCalm, "too many SETTINGS frames");
        }

        var settings = new Http2Settings { InitialWindowSize = _peerInitialWindow, MaxFrameSize = (uint)_writer.PeerMaxFrameSize };
        error = settings.Apply(payload);
        if (error.IsError)
        {
            return error;
        }

        for (int i = 0; i < payload.Length; i += 6)
        {
            if ((Http2SettingId)((payload[i] << 8) | payload[i + 1]) == Http2SettingId.HeaderTableSize)
            {
                _writer.SetPeerTableSize(settings.HeaderTableSize);
            }
        }

        _writer.PeerMaxFrameSize = (int)settings.MaxFrameSize;
        lock (_sync)
        {
            long delta = (long)settings.InitialWindowSize - _peerInitialWindow;
            _peerInitialWindow = settings.InitialWindowSize;
            foreach (Http2ServerStream stream in _streams.Values)
            {
                stream.SendWindow += delta;
                if (stream.SendWindow > Http2Protocol.MaxWindowSize)
                {
                    return Http2Error.Connection(Http2ErrorCode.FlowControlError, "SETTINGS_INITIAL_WINDOW_SIZE overflows a stream window");
                }

                stream.WindowWaiter?.TrySetResult();
                stream.WindowWaiter = null;
            }
        }

        _writer.Queue(0, static (w, _) => FrameWriter.WriteSettingsAck(w));
        return Http2Error.None;
    }

    /// <summary>The client applied our SETTINGS: stream windows below the protocol's 65535, and a header table below its 4096, now hold.</summary>
    private void OnSettingsAck()
    {
        lock (_sync)
        {
            if (_settingsAcked)
            {
                return;
            }

            _settingsAcked = true;
            _deadlines.SettingsAcked();
            if (_limits.HeaderTableSize < HpackDecoder.DefaultMaxTableSize)
            {
                _decoder.SetMaxTableSize(_limits.HeaderTableSize);
            }

            int delta = _limits.StreamWindow - 65535;
            if (delta < 0)
            {
                foreach (Http2ServerStream stream in _streams.Values)
                {
                    stream.ReceiveWindow += delta;
                }
            }
        }
    }

    private Http2Error OnPing(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        Http2Error error = FramePayloads.ReadPing(header, payload, out ulong opaque);
        if (error.IsError || header.HasFlag(Http2FrameFlags.Ack))
        {
            return error;
        }

        if (_pings.Add())
        {
            return Http2Error.Connection(Http2ErrorCode.EnhanceYourCalm, "too many PING frames");
        }

        _writer.Queue(opaque, static (w, data) => FrameWriter.WritePing(w, data, ack: true));
        return Http2Error.None;
    }

    private Http2Error OnGoAway(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        Http2Error error = FramePayloads.ReadGoAway(header, payload, out GoAwayPayload goAway);
        if (error.IsError)
        {
            return error;
        }

        lock (_sync)
        {
            _peerGoAway = true;
            if (goAway.ErrorCode != Http2ErrorCode.NoError)
            {
                // The client ends the connection in error: nothing it sent will be completed.
                foreach (Http2ServerStream stream in _streams.Values.ToList())
                {
                    stream.ResetCode ??= Http2ErrorCode.Cancel;
                    CloseLocked(stream);
                    stream.FireAborted();
                }
            }

            StopIfIdleLocked();
        }

        return Http2Error.None;
    }

    private Http2Error OnWindowUpdate(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        Http2Error error = FramePayloads.ReadWindowUpdate(header, payload, out int increment);
        if (error.Scope == Http2ErrorScope.Connection)
        {
            return error;
        }

        if (header.StreamId != 0 && IsIdle(header.StreamId))
        {
            return Http2Error.Connection(Http2ErrorCode.ProtocolError, "WINDOW_UPDATE on an idle stream");
        }

        lock (_sync)
        {
            if (header.StreamId == 0)
            {
                _sendWindow += increment;
                if (_sendWindow > Http2Protocol.MaxWindowSize)
                {
                    return Http2Error.Connection(Http2ErrorCode.FlowControlError, "connection window above 2^31-1");
                }

                SendWindowChangedLocked();

                WakeWindowWaitersLocked();
                return Http2Error.None;
            }

            if (!_streams.TryGetValue(header.StreamId, out Http2ServerStream? stream))
            {
                return Http2Error.None;
            }

            if (error.IsError)
            {
                StreamErrorLocked(header.StreamId, stream, error.Code);
                return Http2Error.None;
            }

            stream.SendWindow += increment;
            if (stream.SendWindow > Http2Protocol.MaxWindowSize)
            {
                StreamErrorLocked(header.StreamId, stream, Http2ErrorCode.FlowControlError);
                return Http2Error.None;
            }

            stream.WindowWaiter?.TrySetResult();
            stream.WindowWaiter = null;
        }

        return Http2Error.None;
    }
}
