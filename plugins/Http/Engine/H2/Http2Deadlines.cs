using PluginProxy.Abstractions;

namespace PluginProxy.Http.Engine.H2;

/// <summary>
/// The deadlines of one HTTP/2 client connection (<see cref="Http2Limits.IdleTimeout"/>,
/// <see cref="Http2Limits.SettingsAckTimeout"/>, <see cref="Http2Limits.WriteTimeout"/>,
/// <see cref="Http2Limits.WindowStallTimeout"/>), as clock values in milliseconds, checked by one coarse timer: the
/// host's heartbeat when the connection has one, else a timer of its own. Moving bytes costs a timestamp write; when a
/// deadline passes, the connection is told (<see cref="Http2ClientConnection"/> does the work outside the heartbeat's lock).
/// </summary>
/// <remarks>
/// The stream stalls are not tracked one by one here: <see cref="CheckWindowAt"/> keeps the earliest time one may be due,
/// and the connection looks at its waiting streams then (and says when to look next).
/// </remarks>
internal sealed class Http2Deadlines : IExpiring, IDisposable
{
    private readonly Http2ClientConnection _connection;
    private readonly Http2Limits _limits;
    private readonly Func<long> _clock;
    private IHeartbeat? _heartbeat;
    private Timer? _timer;
    private long _idle = long.MaxValue;
    private long _settings = long.MaxValue;
    private long _write = long.MaxValue;
    private long _window = long.MaxValue;

    /// <param name="connection">The connection told when a deadline passes.</param>
    /// <param name="limits">The timeouts.</param>
    /// <param name="clock">The time in milliseconds, on the heartbeat's clock (<see cref="Environment.TickCount64"/> by default).</param>
    public Http2Deadlines(Http2ClientConnection connection, Http2Limits limits, Func<long>? clock)
    {
        _connection = connection;
        _limits = limits;
        _clock = clock ?? (static () => Environment.TickCount64);
    }

    /// <summary>The time now, in milliseconds.</summary>
    public long Now => _clock();

    /// <summary>Starts checking: on every beat of <paramref name="heartbeat"/>, or of a timer of our own when it is null.</summary>
    public void Start(IHeartbeat? heartbeat)
    {
        if (heartbeat is not null)
        {
            _heartbeat = heartbeat;
            heartbeat.Add(this);
            return;
        }

        TimeSpan shortest = new[] { _limits.IdleTimeout, _limits.SettingsAckTimeout, _limits.WriteTimeout, _limits.WindowStallTimeout }
            .Where(t => t is not null).Select(t => t!.Value).DefaultIfEmpty(TimeSpan.Zero).Min();
        if (shortest > TimeSpan.Zero)
        {
            TimeSpan period = TimeSpan.FromMilliseconds(Math.Clamp(shortest.TotalMilliseconds / 4, 10, 1000));
            _timer = new Timer(static state => ((Http2Deadlines)state!).Beat(), this, period, period);
        }
    }

    /// <summary>The connection had no open stream from now on.</summary>
    public void StartIdle() => Volatile.Write(ref _idle, At(Now, _limits.IdleTimeout));

    /// <summary>A stream opened.</summary>
    public void StopIdle() => Volatile.Write(ref _idle, long.MaxValue);

    /// <summary>Our SETTINGS went out.</summary>
    public void SettingsSent() => Volatile.Write(ref _settings, At(Now, _limits.SettingsAckTimeout));

    /// <summary>The client acknowledged our SETTINGS.</summary>
    public void SettingsAcked() => Volatile.Write(ref _settings, long.MaxValue);

    /// <summary>A write to the transport starts.</summary>
    public void WriteStarted() => Volatile.Write(ref _write, At(Now, _limits.WriteTimeout));

    /// <summary>The write completed (or failed).</summary>
    public void WriteDone() => Volatile.Write(ref _write, long.MaxValue);

    /// <summary>A stream waiting for send window may be due at <paramref name="at"/>: look at the waiting streams then, or earlier.</summary>
    public void CheckWindowAt(long at)
    {
        long seen = Volatile.Read(ref _window);
        while (at < seen)
        {
            long was = Interlocked.CompareExchange(ref _window, at, seen);
            if (was == seen)
            {
                return;
            }

            seen = was;
        }
    }

    /// <summary>The deadline <paramref name="timeout"/> after <paramref name="since"/>, or never.</summary>
    public static long At(long since, TimeSpan? timeout) => timeout is { } t ? since + (long)t.TotalMilliseconds : long.MaxValue;

    /// <inheritdoc/>
    public bool IsExpired(long now) =>
        now >= Volatile.Read(ref _write) || now >= Volatile.Read(ref _settings) || now >= Volatile.Read(ref _idle) || now >= Volatile.Read(ref _window);

    /// <inheritdoc/>
    public void Expire(long now)
    {
        if (now >= Volatile.Read(ref _write))
        {
            // The client does not read: nothing can be sent any more, not even GOAWAY.
            Volatile.Write(ref _write, long.MaxValue);
            _connection.AbortOnWriteTimeout();
            return;
        }

        if (now >= Volatile.Read(ref _settings))
        {
            Volatile.Write(ref _settings, long.MaxValue);
            _connection.EndOnSettingsTimeout();
        }

        if (now >= Volatile.Read(ref _idle))
        {
            Volatile.Write(ref _idle, long.MaxValue);
            _connection.EndOnIdleTimeout();
        }

        if (now >= Volatile.Read(ref _window))
        {
            Volatile.Write(ref _window, long.MaxValue);
            _connection.CheckWindowStalls(now);
        }
    }

    /// <summary>Stops checking.</summary>
    public void Dispose()
    {
        _heartbeat?.Remove(this);
        _timer?.Dispose();
    }

    private void Beat()
    {
        long now = Now;
        if (IsExpired(now))
        {
            Expire(now);
        }
    }
}
