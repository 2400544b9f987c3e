using PluginProxy.Abstractions.Stores;

namespace PluginProxy.Host.Stores;

/// <summary>
/// One shared counter (<see cref="ISharedCounter"/>). Windows are aligned on the wall clock (window <c>n</c> spans
/// <c>[n·w, (n+1)·w)</c> milliseconds since the Unix epoch), so every instance numbers them alike. For the current and
/// the previous window the counter keeps what the store said last (every instance's count, ours included, as of the
/// last exchange), what this instance counted since, and what it sent and the store has not confirmed yet. Counting
/// takes a short uncontended lock and never waits for the store; <see cref="SharedStore"/> exchanges the counts.
/// </summary>
internal sealed class SharedCounter : ISharedCounter
{
    private readonly SharedStore _store;
    private readonly Lock _gate = new();
    private readonly long _windowMs;
    private Counts _current;
    private Counts _previous;
    private long _index;
    private long _lastUsed;

    // The other instances' pace, learnt from the store's answers: what they had counted in the current window at the
    // last answer, when that was, and their rate since (events per millisecond, smoothed).
    private long _othersCounted;
    private long _answeredAt;
    private double _othersPerMs;
    private bool _registered = true;

    public SharedCounter(SharedStore store, string key, TimeSpan window, long now)
    {
        _store = store;
        Key = key;
        _windowMs = Math.Max(1, (long)window.TotalMilliseconds);
        _index = now / _windowMs;
        _lastUsed = now;
        StoreKey = string.Concat(store.Prefix, key, ":", _windowMs.ToString(System.Globalization.CultureInfo.InvariantCulture), ":");
    }

    public string Key { get; }

    public TimeSpan Window => TimeSpan.FromMilliseconds(_windowMs);

    internal long WindowMs => _windowMs;

    /// <summary>The store's key of this counter without the window number: the key, the window length, a colon.</summary>
    internal string StoreKey { get; }

    /// <summary>When the counter was last counted or read (the store's clock, Unix milliseconds).</summary>
    internal long LastUsed => Volatile.Read(ref _lastUsed);

    public double Increment(long delta = 1)
    {
        long now = _store.Now;
        EnsureRegistered();
        lock (_gate)
        {
            Roll(now);
            _current.Unsent += delta;
            _current.Own += delta;
            _lastUsed = now;
            return Estimate(now, local: false, projected: false);
        }
    }

    public double Rate => Read(local: false, projected: false);

    public double ProjectedRate => Read(local: false, projected: true);

    public double LocalRate => Read(local: true, projected: false);

    private double Read(bool local, bool projected)
    {
        long now = _store.Now;
        EnsureRegistered();
        lock (_gate)
        {
            Roll(now);
            _lastUsed = now;
            return Estimate(now, local, projected);
        }
    }

    /// <summary>A counter the store forgot (unused for two windows) and that is used again goes back into its exchanges.</summary>
    private void EnsureRegistered()
    {
        if (!Volatile.Read(ref _registered))
        {
            Volatile.Write(ref _registered, true);
            _store.Register(this);
        }
    }

    /// <summary>Marks the counter forgotten when it was not used since <paramref name="before"/>; true when it was.</summary>
    internal bool TryRetire(long before)
    {
        lock (_gate)
        {
            if (_lastUsed >= before || _current.Unsent != 0 || _current.Sent != 0 || _previous.Unsent != 0 || _previous.Sent != 0)
            {
                return false;
            }

            _registered = false;
            return true;
        }
    }

    private double Estimate(long now, bool local, bool projected)
    {
        double current = local ? _current.Own : _current.Total + (projected ? OthersSinceAnswer(now) : 0);
        long previous = local ? _previous.Own : _previous.Total;
        long elapsed = Math.Clamp(now - (_index * _windowMs), 0, _windowMs);
        return current + (previous * (double)(_windowMs - elapsed) / _windowMs);
    }

    /// <summary>
    /// What the other instances have probably counted that this one has not heard of yet: their recent pace times the
    /// age of the last answer, plus half an exchange interval (what they counted since their own last exchange, on
    /// average). Without it every instance lets through what the others did in that time on top of the limit; with it
    /// the overshoot is what the pace fails to predict. Nothing is predicted while the store is not up: then the
    /// counts are this instance's own, as documented.
    /// </summary>
    private double OthersSinceAnswer(long now)
    {
        if (_othersPerMs <= 0 || _store.State != StoreState.Up)
        {
            return 0;
        }

        // A counter in use is answered at every exchange. An exchange may be slow (a loaded machine delays it by a few
        // hundred milliseconds) and the others go on counting meanwhile, so the pace is predicted for as long as an
        // exchange may take before the store counts as down (its timeout): an answer older than that means the server
        // stopped answering before the store noticed, and the others may have stopped being heard of too: predicting
        // their pace then would only make this instance refuse what it alone should decide.
        long interval = (long)_store.SyncInterval.TotalMilliseconds;
        long silence = now - _answeredAt;
        if (silence > interval + Math.Max(2 * interval, (long)_store.Timeout.TotalMilliseconds))
        {
            return 0;
        }

        long age = Math.Min(silence + (interval / 2), _windowMs);
        return age <= 0 ? 0 : _othersPerMs * age;
    }

    /// <summary>Learns the others' pace from an answer for the current window (under the lock).</summary>
    private void LearnPace(long now)
    {
        long own = _current.Own - _current.Unsent - _current.Sent - _current.Unconfirmed;
        long others = Math.Max(0, _current.Stored - own);
        long since = Math.Max(_answeredAt, _index * _windowMs);
        if (now > since)
        {
            double sample = Math.Max(0, others - _othersCounted) / (double)(now - since);
            _othersPerMs = _answeredAt == 0 ? sample : (_othersPerMs + sample) / 2;
        }

        _othersCounted = others;
        _answeredAt = now;
    }

    /// <summary>Moves on to the window holding <paramref name="now"/> (under the lock).</summary>
    private void Roll(long now)
    {
        long index = now / _windowMs;
        if (index <= _index)
        {
            return;
        }

        bool next = index == _index + 1;
        _previous = next ? _current with { Final = false } : default;
        _current = default;
        _index = index;
        _othersCounted = 0; // counted from the window's start from now on; the pace carries over into the next window
        if (!next)
        {
            _othersPerMs = 0;
        }
    }

    /// <summary>
    /// What the next exchange sends for this counter, or false when it has nothing to send or to learn: the current
    /// window's count since the last exchange (zero for a counter only read: the store's answer brings the others'
    /// counts), and once per window the previous window's, to learn its final count when the other instances have
    /// sent theirs. What is taken is in flight until <see cref="Confirm"/> or <see cref="Fail"/>.
    /// </summary>
    internal bool TakeUnsent(long now, long settleMs, long usedSince, out Exchange exchange)
    {
        lock (_gate)
        {
            Roll(now);
            exchange = new Exchange(_index, _current.Unsent, !_current.ExpirySet, -1, 0);
            bool settlePrevious = !_previous.Final && now - (_index * _windowMs) >= settleMs && (_previous.Own != 0 || _previous.Total != 0);
            if (settlePrevious)
            {
                exchange = exchange with { PreviousIndex = _index - 1, PreviousDelta = _previous.Unsent };
                _previous.Sent += _previous.Unsent;
                _previous.Unsent = 0;
            }

            if (_current.Unsent == 0 && !settlePrevious && _lastUsed < usedSince)
            {
                return false;
            }

            _current.Sent += _current.Unsent;
            _current.Unsent = 0;
            _current.ExpirySet = true;
            return true;
        }
    }

    /// <summary>
    /// The store's answers to an exchange: each window it answered for takes its count, if it is still the current or
    /// the previous one. What got no answer (null) counts as unsent again when the server surely did not receive it
    /// (the connection was down), and the next exchange sends it once more; when the server may have received it (no
    /// answer in time) it is never sent again, so that nothing is counted twice, and it stays in this instance's counts.
    /// </summary>
    internal void Settle(in Exchange exchange, long? currentTotal, long? previousTotal, bool maybeReceived = false)
    {
        lock (_gate)
        {
            Settle(exchange.Index, exchange.Delta, currentTotal, final: false, maybeReceived);
            if (exchange.PreviousIndex >= 0)
            {
                Settle(exchange.PreviousIndex, exchange.PreviousDelta, previousTotal, final: true, maybeReceived);
            }

            if (currentTotal is null && exchange.Index == _index)
            {
                _current.ExpirySet = false;
            }
        }
    }

    private void Settle(long index, long delta, long? total, bool final, bool maybeReceived)
    {
        ref Counts window = ref WindowOf(index, out bool found);
        if (!found)
        {
            return;
        }

        window.Sent -= delta;
        if (total is { } stored)
        {
            window.Stored = stored;
            window.Final |= final;
            if (index == _index && !final)
            {
                LearnPace(_store.Now);
            }
        }
        else if (maybeReceived)
        {
            window.Unconfirmed += delta;
        }
        else
        {
            window.Unsent += delta;
        }
    }

    private Counts _nowhere;

    private ref Counts WindowOf(long index, out bool found)
    {
        found = true;
        if (index == _index)
        {
            return ref _current;
        }

        if (index == _index - 1)
        {
            return ref _previous;
        }

        found = false;
        return ref _nowhere;
    }

    /// <summary>One window's counts.</summary>
    private struct Counts
    {
        /// <summary>Every instance's count as the store said it last (ours included, up to what it confirmed).</summary>
        public long Stored;

        /// <summary>Counted here and not sent yet.</summary>
        public long Unsent;

        /// <summary>Sent and not confirmed yet.</summary>
        public long Sent;

        /// <summary>Sent, never answered, and perhaps received: counted here, never sent again.</summary>
        public long Unconfirmed;

        /// <summary>Counted here, sent or not.</summary>
        public long Own;

        /// <summary>The store's key for this window was given its expiry (by the first exchange of the window).</summary>
        public bool ExpirySet;

        /// <summary>The store's count of a window that ended was read once the other instances had sent theirs.</summary>
        public bool Final;

        public readonly long Total => Stored + Unsent + Sent + Unconfirmed;
    }

    /// <summary>What one exchange sends for a counter: the current window's delta, and the previous window's when it settles it (else index -1).</summary>
    internal readonly record struct Exchange(long Index, long Delta, bool SetExpiry, long PreviousIndex, long PreviousDelta);
}
