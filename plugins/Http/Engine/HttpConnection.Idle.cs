namespace PluginProxy.Http.Engine;

/// <summary>
/// Between requests: the wait for the next one (its timeout and park deadline set), the moment from which the heartbeat
/// may hand the idle connection to the host to park (<see cref="TryPark"/>), and the client's return.
/// </summary>
internal sealed partial class HttpConnection
{
    /// <summary>Where the connection is between requests (<see cref="IdleWaiting"/>, <see cref="IdleParked"/>...), changed under a lock on the deadlines.</summary>
    private int _idle;
    private const int IdleActive = 0;
    private const int IdleWaiting = 1;
    private const int IdleParked = 2;
    private const int IdleDone = 3;

    /// <summary>Prepares the wait for the next request: false when the connection should end instead (the proxy is stopping).</summary>
    private bool BeginIdle()
    {
        bool first = _streams == 0;
        if (!first && Stopping)
        {
            return false;
        }

        _deadlines.Phase = StreamPhase.Idle;
        _deadlines.SetClient(first ? _settings.Timeouts.Request : _settings.Timeouts.KeepAlive);
        _deadlines.SetPark(_deadlines.Parker is null ? null : _options.ParkIdleAfter);
        return true;
    }

    /// <summary>The wait for the next request is under way: from now the heartbeat may park the connection.</summary>
    private void MayPark()
    {
        lock (_deadlines)
        {
            _idle = IdleWaiting;
        }
    }

    /// <summary>The client sent while idle: false when the heartbeat parked the connection first (the host resumes it).</summary>
    private bool LeaveIdle()
    {
        lock (_deadlines)
        {
            if (_idle == IdleParked)
            {
                return false;
            }

            _idle = IdleActive;
            return true;
        }
    }

    /// <summary>
    /// Called by the heartbeat when the connection has been idle for <c>park_idle_after</c>: hands it to the host
    /// (<see cref="ISession.TryPark"/>), unless the client sent meanwhile. The host disposes the socket, which ends the
    /// wait in <see cref="RunAsync"/>; the connection itself stays open and is resumed as a new session. When the host
    /// cannot take it now (a TLS session reading a record, say), it tries again <c>park_idle_after</c> later.
    /// </summary>
    internal void TryPark(TimeSpan? timeout)
    {
        lock (_deadlines)
        {
            if (_idle != IdleWaiting || _request.Length != 0)
            {
                // Not waiting in the runtime yet (the read is about to be issued), or between a stale wake and the next
                // wait: the park is tried again later, or the connection would never park this time it idles. When the
                // client did send, the stream's phase is no longer idle by then and the park is not tried.
                if (_idle != IdleParked)
                {
                    _deadlines.SetPark(_options.ParkIdleAfter);
                }

                return;
            }

            if (_session.TryPark(timeout))
            {
                _idle = IdleParked;
            }
            else
            {
                _deadlines.SetPark(_options.ParkIdleAfter);
            }
        }
    }
}
