namespace PluginProxy.Abstractions;

/// <summary>
/// Something with a deadline that the host's <see cref="IHeartbeat"/> checks on every beat: a joined tcp session, an
/// HTTP connection, a pool of idle server connections. Keeping the deadline is the implementer's part (a timestamp
/// written when bytes move); the heartbeat only asks, so activity costs no timer operation.
/// </summary>
public interface IExpiring
{
    /// <summary>
    /// True when a timeout is due at <paramref name="now"/> (an <see cref="Environment.TickCount64"/> value). Called on every
    /// beat for every registration, under the registrations' lock: it must be cheap, must not block and must not call the
    /// heartbeat.
    /// </summary>
    bool IsExpired(long now);

    /// <summary>
    /// Ends what timed out. Called on the heartbeat's thread after <see cref="IsExpired"/> returned true, outside the
    /// registrations' lock (it may remove itself); check again, since activity may have moved the deadline meanwhile.
    /// Must not block: close sockets or cancel tokens, and let the connection's own code finish the work.
    /// </summary>
    void Expire(long now);
}
