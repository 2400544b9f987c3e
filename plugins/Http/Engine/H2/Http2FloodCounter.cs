namespace PluginProxy.Http.Engine.H2;

/// <summary>
/// Counts events of one kind in fixed windows of time and says when a window holds more than its limit: the flood
/// defences of <see cref="Http2ClientConnection"/> (resets, SETTINGS, PING, empty frames). Not thread-safe: the
/// connection's reader loop is its only user.
/// </summary>
internal sealed class Http2FloodCounter
{
    private readonly int _limit;
    private readonly long _windowMs;
    private long _windowStart;
    private int _count;

    /// <param name="limit">The most events a window may hold.</param>
    /// <param name="window">The window's length.</param>
    public Http2FloodCounter(int limit, TimeSpan window)
    {
        _limit = limit;
        _windowMs = Math.Max(1, (long)window.TotalMilliseconds);
        _windowStart = Environment.TickCount64;
    }

    /// <summary>Counts one event; true when the current window now holds more than the limit.</summary>
    public bool Add()
    {
        long now = Environment.TickCount64;
        if (now - _windowStart >= _windowMs)
        {
            _windowStart = now;
            _count = 0;
        }

        return ++_count > _limit;
    }
}
