using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Stores;

namespace RateLimit;

/// <summary>
/// The limits of every listener, by client address. Without a <c>store</c>, a token bucket per listener and client: a
/// bucket starts full (<c>burst</c> tokens), each request takes one, and tokens come back at <c>requests</c> per
/// <c>per</c>. With a <c>store</c>, a counter shared by every instance (<see cref="SharedLimit"/>). Clients that went
/// quiet are swept.
/// </summary>
public sealed class ClientBuckets : IDisposable
{
    private readonly ConcurrentDictionary<string, ListenerLimit> _listeners = new(StringComparer.Ordinal);
    private readonly IStores? _stores;
    private Timer? _sweeper;

    /// <summary>Buckets of this instance alone, for tests without a host: a listener whose limit names a <c>store</c> throws.</summary>
    public ClientBuckets()
    {
    }

    /// <summary>Buckets, and limits shared through the configuration's <paramref name="stores"/> (the host's, by injection).</summary>
    public ClientBuckets(IStores stores) => _stores = stores;

    /// <summary>Takes a token for <paramref name="client"/>; when there is none, says how long until there is one.</summary>
    public TakeResult Take(ListenerSettings listener, IPAddress client)
    {
        ListenerLimit limit = _listeners.TryGetValue(listener.Name, out ListenerLimit? known) && ReferenceEquals(known.Settings, listener)
            ? known
            : Refresh(listener);
        return limit.Take(client);
    }

    /// <summary>The listener was seen with new settings (a configuration reload): keep its clients if the limit did not change.</summary>
    private ListenerLimit Refresh(ListenerSettings listener)
    {
        RateLimitOptions limit = RateLimitOptions.Bind(listener).Value;
        return _listeners.AddOrUpdate(listener.Name,
            static (_, state) => state.self.Create(state.listener, state.limit),
            static (_, old, state) => old.Limit == state.limit ? old.WithSettings(state.listener) : state.self.Create(state.listener, state.limit),
            (self: this, listener, limit));
    }

    private ListenerLimit Create(ListenerSettings listener, RateLimitOptions limit) => limit.Store is { } store
        ? new SharedLimit(listener, limit, _stores ?? throw new InvalidOperationException($"rate_limit of listener \"{listener.Name}\" names store \"{store}\" but the host gave no stores"))
        : new ListenerBuckets(listener, limit);

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
        foreach (ListenerLimit listener in _listeners.Values)
        {
            listener.Sweep();
        }
    }

    public void Dispose() => StopSweeping();

    private sealed class ListenerBuckets(ListenerSettings settings, RateLimitOptions limit) : ListenerLimit(settings, limit)
    {
        private readonly ConcurrentDictionary<IPAddress, Bucket> _clients = new();

        public override int Count => _clients.Count;

        public override TakeResult Take(IPAddress client)
        {
            Bucket bucket = _clients.TryGetValue(client, out Bucket? found)
                ? found
                : _clients.GetOrAdd(client, static (_, burst) => new Bucket(burst), Limit.Burst);
            return bucket.Take(Limit);
        }

        public override void Sweep()
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
/// <param name="StoreRefusing">
/// Refused because the limit's store is down and configured <c>on_store_failure = "closed"</c>: no instance can tell
/// whether the client is over the limit (answered 503, not 429).
/// </param>
public readonly record struct TakeResult(bool Allowed, TimeSpan RetryAfter, bool FirstRefusal, RateLimitOptions Limit, bool StoreRefusing = false);

/// <summary>The limit of one listener over its clients, as its settings say (a reload with the same limit keeps it, and its clients).</summary>
internal abstract class ListenerLimit(ListenerSettings settings, RateLimitOptions limit)
{
    public ListenerSettings Settings { get; private set; } = settings;

    public RateLimitOptions Limit { get; } = limit;

    /// <summary>The clients tracked.</summary>
    public abstract int Count { get; }

    public ListenerLimit WithSettings(ListenerSettings newer)
    {
        Settings = newer;
        return this;
    }

    /// <summary>Decides on one request of <paramref name="client"/>, counting it when it is let through.</summary>
    public abstract TakeResult Take(IPAddress client);

    /// <summary>Forgets the clients that went quiet.</summary>
    public abstract void Sweep();
}
