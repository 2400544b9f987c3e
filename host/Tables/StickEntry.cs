using PluginProxy.Abstractions.Tables;

namespace PluginProxy.Host.Tables;

/// <summary>
/// One key of a <see cref="StickTable"/>: totals, rates over the table's rate period, open connections, the server it
/// sticks to, and when it was last used. Rates are HAProxy's sliding-window estimate: the count of the current period
/// plus the previous period's count weighted by the part of it still inside the window. A short lock guards the
/// windows (uncontended, it costs a few nanoseconds); totals and connections are atomic.
/// <para>
/// In a table with a <c>store</c> (<see cref="TableShare"/>), requests and errors are also counted in shared counters,
/// resolved once per entry, and <see cref="RequestRate"/> and <see cref="ErrorRate"/> are the sum over every instance
/// (this one's up to now, the others' as of the last exchange; this one's alone while the store is down). A server set
/// here is sent to the other instances, and theirs arrive through <see cref="ApplyShared"/>: each change is stamped,
/// and the latest stamp wins everywhere, so instances that pick a server for a new key at once agree on one. The sweep
/// shares a key in use again before the store's copy expires (<see cref="RefreshShare"/>).
/// <see cref="Requests"/>, <see cref="Errors"/> and <see cref="Connections"/> stay this instance's own.
/// </para>
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
    private long _serverStamp;
    private string _serverOrigin = "";
    private long _sharedAt;
    private long _lastUsed;
    private EntryCounters? _shared;

    public StickEntry(StickTable table, string key, long now)
    {
        _table = table;
        Key = key;
        _windowStart = now;
        _lastUsed = now;
    }

    public string Key { get; }

    /// <summary>Requests over the rate period: every instance's when the table is shared, else this one's.</summary>
    public double RequestRate => SharedCounters() is { } shared ? shared.Requests.Rate : Rate(requests: true);

    /// <summary>Requests counted by this instance since the entry was created (not shared).</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Connections of this key open on this instance (not shared).</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Errors over the rate period: every instance's when the table is shared, else this one's.</summary>
    public double ErrorRate => SharedCounters() is { } shared ? shared.Errors.Rate : Rate(requests: false);

    /// <summary>Errors counted by this instance since the entry was created (not shared).</summary>
    public long Errors => Interlocked.Read(ref _errors);

    /// <summary>The server the key sticks to; setting another one shares it when the table has a store.</summary>
    public string? Server
    {
        get => _server;
        set
        {
            TableShare? share = _table.Share;
            long stamp;
            lock (_gate)
            {
                if (value == _server)
                {
                    return;
                }

                _server = value;
                if (share is null)
                {
                    return;
                }

                // Later than any change heard of, even from an instance whose clock runs ahead.
                stamp = Math.Max(share.Now, _serverStamp + 1);
                _serverStamp = stamp;
                _serverOrigin = share.Origin;
                _sharedAt = _table.Now;
            }

            share.ShareServer(Key, value, stamp, _table.Expire);
        }
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

        SharedCounters()?.Requests.Increment();
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

        SharedCounters()?.Errors.Increment();
    }

    /// <summary>
    /// Another instance's server for this key, stamped when it was set there: taken when it is the latest change heard
    /// of (the stamp, then the instance's name, decide), and not shared again. Returns true when this entry holds a
    /// later change than the one received: the store then holds a stale value, that the caller corrects by sharing
    /// this entry's (<see cref="ShareServer"/>), so an instance that starts later learns the server the others agree on.
    /// </summary>
    public bool ApplyShared(string? server, long stamp, string origin)
    {
        lock (_gate)
        {
            int order = stamp != _serverStamp ? stamp.CompareTo(_serverStamp) : string.CompareOrdinal(origin, _serverOrigin);
            if (order < 0)
            {
                return true;
            }

            _sharedAt = _table.Now;
            if (order > 0)
            {
                _server = server;
                _serverStamp = stamp;
                _serverOrigin = origin;
            }

            return false;
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
            _serverStamp = 0;
            _serverOrigin = "";
        }
    }

    /// <summary>
    /// Shares the entry's server as it stands, with the stamp of its last change: the table moved to another store, that
    /// has not heard of it, or the store holds a stale value. A server set while the table was local is stamped now.
    /// </summary>
    public void ShareServer(TableShare share)
    {
        string? server;
        long stamp;
        string origin;
        lock (_gate)
        {
            if (_serverStamp == 0 && _server is not null)
            {
                (_serverStamp, _serverOrigin) = (share.Now, share.Origin);
            }

            (server, stamp, origin) = (_server, _serverStamp, _serverOrigin);
            _sharedAt = _table.Now;
        }

        if (stamp != 0)
        {
            share.ShareServer(Key, server, stamp, _table.Expire, origin);
        }
    }

    /// <summary>
    /// Shares the server again when the entry was used since it was last shared or heard of, half its expiry ago: the
    /// store keeps a value for the table's <c>expire</c> from when it was set, and a key in use must not expire there
    /// (an instance that starts later would not learn it). Called by the sweep, once a second.
    /// </summary>
    public void RefreshShare(TableShare share, long now, long expireMs)
    {
        lock (_gate)
        {
            if (_server is null || LastUsed <= _sharedAt || now - _sharedAt < expireMs / 2)
            {
                return;
            }
        }

        ShareServer(share);
    }

    /// <summary>The entry's shared counters when the table is shared: resolved on first use and after the table's share changed.</summary>
    private EntryCounters? SharedCounters()
    {
        if (_table.Share is not { } share)
        {
            return null;
        }

        EntryCounters? counters = _shared;
        if (counters is null || !ReferenceEquals(counters.Share, share))
        {
            _shared = counters = share.CountersOf(Key);
        }

        return counters;
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
