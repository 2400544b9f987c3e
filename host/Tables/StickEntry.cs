using PluginProxy.Abstractions.Tables;

namespace PluginProxy.Host.Tables;

/// <summary>
/// One key of a <see cref="StickTable"/>: totals, rates over the table's rate period, open connections, the server it
/// sticks to, and when it was last used. Rates are HAProxy's sliding-window estimate: the count of the current period
/// plus the previous period's count weighted by the part of it still inside the window. A short lock guards the
/// windows (uncontended, it costs a few nanoseconds); totals and connections are atomic.
/// </summary>
internal sealed class StickEntry : IStickEntry
{
    private readonly StickTable _table;
    private readonly Lock _gate = new();
    private long _windowStart;
    private int _requestsNow;
    private int _requestsBefore;
    private int _errorsNow;
    private int _errorsBefore;
    private long _requests;
    private long _errors;
    private int _connections;
    private volatile string? _server;
    private long _lastUsed;

    public StickEntry(StickTable table, string key, long now)
    {
        _table = table;
        Key = key;
        _windowStart = now;
        _lastUsed = now;
    }

    public string Key { get; }

    public double RequestRate => Rate(requests: true);

    public long Requests => Interlocked.Read(ref _requests);

    public int Connections => Volatile.Read(ref _connections);

    public double ErrorRate => Rate(requests: false);

    public long Errors => Interlocked.Read(ref _errors);

    public string? Server
    {
        get => _server;
        set => _server = value;
    }

    /// <summary>When the entry was last tracked (the table's clock, in milliseconds).</summary>
    public long LastUsed => Volatile.Read(ref _lastUsed);

    public void CountRequest()
    {
        Interlocked.Increment(ref _requests);
        long now = _table.Now;
        lock (_gate)
        {
            Roll(now);
            _requestsNow++;
        }
    }

    public void CountError()
    {
        Interlocked.Increment(ref _errors);
        long now = _table.Now;
        lock (_gate)
        {
            Roll(now);
            _errorsNow++;
        }
    }

    public void AddConnections(int delta)
    {
        Interlocked.Add(ref _connections, delta);
        Touch(_table.Now);
    }

    /// <summary>Marks the entry used at <paramref name="now"/>: its expiry starts again.</summary>
    public void Touch(long now) => Volatile.Write(ref _lastUsed, now);

    /// <summary>True when the entry outlived its expiry unused at <paramref name="now"/> and no connection holds it.</summary>
    public bool IsExpired(long now, long expireMs) => now - LastUsed >= expireMs && Connections <= 0;

    /// <summary>Starts the entry over (it expired but was not swept yet, and its key came back): counters and server forgotten.</summary>
    public void Restart(long now)
    {
        lock (_gate)
        {
            _windowStart = now;
            _requestsNow = _requestsBefore = _errorsNow = _errorsBefore = 0;
            Interlocked.Exchange(ref _requests, 0);
            Interlocked.Exchange(ref _errors, 0);
            _server = null;
        }
    }

    private double Rate(bool requests)
    {
        long now = _table.Now;
        long period = _table.RatePeriodMs;
        lock (_gate)
        {
            Roll(now);
            int current = requests ? _requestsNow : _errorsNow;
            int previous = requests ? _requestsBefore : _errorsBefore;
            long elapsed = Math.Clamp(now - _windowStart, 0, period);
            return current + (previous * (double)(period - elapsed) / period);
        }
    }

    /// <summary>Moves the window on to the period holding <paramref name="now"/> (under the lock).</summary>
    private void Roll(long now)
    {
        long period = _table.RatePeriodMs;
        long elapsed = now - _windowStart;
        if (elapsed < period)
        {
            return;
        }

        long periods = elapsed / period;
        _requestsBefore = periods == 1 ? _requestsNow : 0;
        _errorsBefore = periods == 1 ? _errorsNow : 0;
        _requestsNow = 0;
        _errorsNow = 0;
        _windowStart += periods * period;
    }
}
