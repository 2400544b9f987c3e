using Microsoft.Extensions.Logging;
using PluginProxy.Http.Codec.H2;

namespace PluginProxy.Http.Engine.H2;

/// <summary>
/// What the connection does when one of its deadlines passes (<see cref="Http2Deadlines"/>): called on the timer's
/// thread, it only changes state, queues frames, cancels the reads or closes the transport; the reader loop and
/// <see cref="EndAsync"/> do the rest.
/// </summary>
internal sealed partial class Http2ClientConnection
{
    /// <summary>The streams waiting for send window now.</summary>
    internal int StreamsWaitingForWindow
    {
        get
        {
            lock (_sync)
            {
                return _streams.Values.Count(s => s.WindowWaitSince is not null);
            }
        }
    }

    /// <summary>A write stayed pending for <see cref="Http2Limits.WriteTimeout"/>: close the transport (no GOAWAY can get through), which ends everything.</summary>
    internal void AbortOnWriteTimeout()
    {
        string detail = $"a write to the client did not complete within {_limits.WriteTimeout} (write timeout)";
        lock (_sync)
        {
            _timeoutDetail ??= detail;
            EndDetail = _timeoutDetail;
        }

        _log?.LogDebug("HTTP/2 connection aborted: {Detail}", detail);
        _writer.Abort();
        _ = _readCancel.CancelAsync();
        try
        {
            _transport.Dispose();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
        }
    }

    /// <summary>Our SETTINGS were not acknowledged within <see cref="Http2Limits.SettingsAckTimeout"/>: GOAWAY SETTINGS_TIMEOUT (RFC 9113 §6.5.3).</summary>
    internal void EndOnSettingsTimeout()
        => EndOnTimeout(Http2Error.Connection(Http2ErrorCode.SettingsTimeout, $"SETTINGS not acknowledged within {_limits.SettingsAckTimeout}"));

    /// <summary>No stream for <see cref="Http2Limits.IdleTimeout"/>: GOAWAY NO_ERROR and close (a stream opened meanwhile keeps the connection).</summary>
    internal void EndOnIdleTimeout()
    {
        lock (_sync)
        {
            if (_ended || _streams.Count > 0)
            {
                return;
            }

            if (!_goAwaySent)
            {
                _goAwaySent = true;
                _goAwayLastId = _lastStreamId;
                _writer.QueueGoAway(_lastStreamId, Http2ErrorCode.NoError);
            }

            _timeoutDetail ??= $"no stream for {_limits.IdleTimeout} (idle timeout)";
            _ = _readCancel.CancelAsync();
        }
    }

    /// <summary>
    /// Looks at the streams waiting for send window: when the connection window stayed exhausted for
    /// <see cref="Http2Limits.WindowStallTimeout"/> while one waited as long, GOAWAY ENHANCE_YOUR_CALM; a stream whose own
    /// window stayed exhausted that long is reset with CANCEL. Then says when to look again.
    /// </summary>
    internal void CheckWindowStalls(long now)
    {
        if (_limits.WindowStallTimeout is not { } timeout)
        {
            return;
        }

        long span = (long)timeout.TotalMilliseconds;
        List<Http2ServerStream>? stalled = null;
        lock (_sync)
        {
            if (_ended)
            {
                return;
            }

            bool connectionStalled = _sendWindow <= 0 && _sendWindowZeroSince is long zero && now >= zero + span;
            long next = long.MaxValue;
            foreach (Http2ServerStream stream in _streams.Values)
            {
                if (stream.WindowWaitSince is not long since)
                {
                    continue;
                }

                if (now < since + span)
                {
                    next = Math.Min(next, since + span);
                }
                else if (connectionStalled)
                {
                    EndOnTimeoutLocked(Http2Error.Connection(Http2ErrorCode.EnhanceYourCalm, $"the connection send window stayed exhausted for {timeout}"));
                    return;
                }
                else if (stream.SendWindow <= 0)
                {
                    (stalled ??= []).Add(stream);
                }
                else
                {
                    // It waits for the connection window, which moved lately: look again when that may be stalled.
                    next = Math.Min(next, _sendWindowZeroSince is long z ? z + span : now + span);
                }
            }

            foreach (Http2ServerStream stream in stalled ?? [])
            {
                _log?.LogDebug("HTTP/2 stream {Stream} reset with CANCEL: its send window stayed exhausted for {Timeout}", stream.Id, timeout);
                StreamErrorLocked(stream.Id, stream, Http2ErrorCode.Cancel);
            }

            _deadlines.CheckWindowAt(next);
        }

        if (stalled is not null)
        {
            _ = Task.Run(() => FlushQuietlyAsync());
        }
    }

    /// <summary>Records when the connection send window became exhausted (or that it is open again); the caller holds the lock.</summary>
    private void SendWindowChangedLocked()
    {
        if (_sendWindow > 0)
        {
            _sendWindowZeroSince = null;
        }
        else
        {
            _sendWindowZeroSince ??= _deadlines.Now;
        }
    }

    /// <summary>A stream starts waiting for send window (or waits again); the caller holds the lock.</summary>
    private void WindowWaitLocked(Http2ServerStream stream)
    {
        if (stream.WindowWaitSince is null)
        {
            long now = _deadlines.Now;
            stream.WindowWaitSince = now;
            _deadlines.CheckWindowAt(Http2Deadlines.At(now, _limits.WindowStallTimeout));
        }
    }

    private void EndOnTimeout(Http2Error error)
    {
        lock (_sync)
        {
            EndOnTimeoutLocked(error);
        }
    }

    /// <summary>Ends the connection with <paramref name="error"/> from the timer: the reads stop and the reader's end sends GOAWAY.</summary>
    private void EndOnTimeoutLocked(Http2Error error)
    {
        if (_ended || _timeoutError.IsError)
        {
            return;
        }

        _timeoutError = error;
        _ = _readCancel.CancelAsync();
    }
}
