using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using PluginProxy.Abstractions;

namespace RateLimit;

/// <summary>
/// The token buckets: one per listener and client address. A bucket starts full (<c>burst</c> tokens), each request
/// takes one, and tokens come back at <c>requests</c> per <c>per</c>. Buckets of clients that went quiet are swept.
/// </summary>
public sealed class ClientBuckets : IDisposable
{
    private readonly ConcurrentDictionary<string, ListenerBuckets> _listeners = new(StringComparer.Ordinal);
    private Timer? _sweeper;

    /// <summary>Takes a token for <paramref name="client"/>; when there is none, says how long until there is one.</summary>
    public TakeResult Take(ListenerSettings listener, IPAddress client)
    {
        ListenerBuckets buckets = _listeners.TryGetValue(listener.Name, out ListenerBuckets? known) && ReferenceEquals(known.Settings, listener)
            ? known
            : Refresh(listener);
        return buckets.Take(client);
    }

    /// <summary>The listener was seen with new settings (a configuration reload): keep its buckets if the limit did not change.</summary>
    private ListenerBuckets Refresh(ListenerSettings listener)
    {
        RateLimitOptions limit = RateLimitOptions.Bind(listener).Value;
        return _listeners.AddOrUpdate(listener.Name,
            static (_, state) => new ListenerBuckets(state.listener, state.limit),
            static (_, old, state) => old.Limit == state.limit ? old.WithSettings(state.listener) : new ListenerBuckets(state.listener, state.limit),
            (listener, limit));
    }

    /// <summary>The number of clients currently tracked (for tests and diagnostics).</summary>
    public int TrackedClients => _listeners.Values.Sum(l => l.Count);

    public void StartSweeping(TimeSpan every) => _sweeper = new Timer(_ => Sweep(), null, every, every);

    public void StopSweeping()
    {
        _sweeper?.Dispose();
        _sweeper = null;
    }

    /// <summary>Forgets the clients whose bucket is full again: they would start with a full bucket anyway.</summary>
    public void Sweep()
    {
        foreach (ListenerBuckets listener in _listeners.Values)
        {
            listener.Sweep();
        }
    }

    public void Dispose() => StopSweeping();

    private sealed class ListenerBuckets(ListenerSettings settings, RateLimitOptions limit)
    {
        private readonly ConcurrentDictionary<IPAddress, Bucket> _clients = new();

        public ListenerSettings Settings { get; private set; } = settings;

        public RateLimitOptions Limit { get; } = limit;

        public int Count => _clients.Count;

        public ListenerBuckets WithSettings(ListenerSettings newer)
        {
            Settings = newer;
            return this;
        }

        public TakeResult Take(IPAddress client)
        {
            Bucket bucket = _clients.TryGetValue(client, out Bucket? found)
                ? found
                : _clients.GetOrAdd(client, static (_, burst) => new Bucket(burst), Limit.Burst);
            return bucket.Take(Limit);
        }

        public void Sweep()
        {
            foreach ((IPAddress client, Bucket bucket) in _clients)
            {
                if (bucket.IsFull(Limit))
                {
                    _clients.TryRemove(new KeyValuePair<IPAddress, Bucket>(client, bucket));
                }
            }
        }
    }

    private sealed class Bucket(int burst)
    {
        private readonly Lock _gate = new();
        private double _tokens = burst;
        private long _refilledAt = Stopwatch.GetTimestamp();
        private bool _refusing;

        public TakeResult Take(RateLimitOptions limit)
        {
            lock (_gate)
            {
                Refill(limit);
                if (_tokens >= 1)
                {
                    _tokens -= 1;
                    _refusing = false;
                    return new TakeResult(true, TimeSpan.Zero, false, limit);
                }

                bool first = !_refusing;
                _refusing = true;
                return new TakeResult(false, TimeSpan.FromSeconds((1 - _tokens) / limit.RefillPerSecond), first, limit);
            }
        }

        public bool IsFull(RateLimitOptions limit)
        {
            lock (_gate)
            {
                Refill(limit);
                return _tokens >= limit.Burst;
            }
        }

        private void Refill(RateLimitOptions limit)
        {
            long now = Stopwatch.GetTimestamp();
            _tokens = Math.Min(limit.Burst, _tokens + Stopwatch.GetElapsedTime(_refilledAt, now).TotalSeconds * limit.RefillPerSecond);
            _refilledAt = now;
        }
    }
}

/// <summary>What taking a token said.</summary>
/// <param name="Allowed">A token was there: the request may go on.</param>
/// <param name="RetryAfter">When refused, how long until the next token.</param>
/// <param name="FirstRefusal">True for the first refusal after the client was last allowed (to log once, not per request).</param>
/// <param name="Limit">The limit that applied.</param>
public readonly record struct TakeResult(bool Allowed, TimeSpan RetryAfter, bool FirstRefusal, RateLimitOptions Limit);
