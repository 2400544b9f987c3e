using System.Collections.Concurrent;
using System.Net;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Stores;

namespace RateLimit;

/// <summary>
/// The limit of a listener whose <c>rate_limit</c> names a <c>store</c>: shared by every instance of the proxy that names
/// that store. Each client address has a shared counter (key <c>rl:&lt;listener&gt;:&lt;client&gt;</c>, window
/// <c>per</c>) whose rate sums every instance's requests over the last <c>per</c> (a sliding-window estimate; what it knows of the
/// other instances is up to one exchange old, and it adds what they probably counted since at their recent pace). A request is let through
/// while that rate is below <c>requests</c>, and only then counted: refused requests do not count, so what is let through converges to the limit
/// however hard the client pushes. Nothing here waits for the store: counters count locally and the store exchanges
/// their counts in the background. While the store is down, counters hold this instance's counts only (the limit
/// becomes per instance), or, with <c>on_store_failure = "closed"</c>, every request is refused with 503.
/// </summary>
internal sealed class SharedLimit(ListenerSettings settings, RateLimitOptions limit, IStores stores) : ListenerLimit(settings, limit)
{
    private readonly ConcurrentDictionary<IPAddress, Client> _clients = new();
    private readonly string _keyPrefix = $"rl:{settings.Name}:";
    private readonly string _storeName = limit.Store!;

    // The store, as found in the configuration's stores; found again when those change (a reload may replace it).
    private volatile Resolved? _resolved;
    private bool _refusing;

    public override int Count => _clients.Count;

    public override TakeResult Take(IPAddress client)
    {
        if (Store() is not { } store)
        {
            // The configuration check refuses a store that is not defined; a reload that dropped it while a stream of
            // the previous version is still running falls back to letting requests through rather than failing them.
            return new TakeResult(true, TimeSpan.Zero, false, Limit);
        }

        if (store.Refusing)
        {
            bool first = !Volatile.Read(ref _refusing);
            Volatile.Write(ref _refusing, true);
            return new TakeResult(false, TimeSpan.FromSeconds(1), first, Limit, StoreRefusing: true);
        }

        Volatile.Write(ref _refusing, false);
        Client entry = _clients.TryGetValue(client, out Client? found) && ReferenceEquals(found.Store, store)
            ? found
            : Track(client, store);
        return entry.Take(Limit);
    }

    /// <summary>Forgets the clients not seen for two windows: their counter says nothing of them any more.</summary>
    public override void Sweep()
    {
        long before = Environment.TickCount64 - (2 * (long)Math.Max(Limit.Per.TotalMilliseconds, 1000));
        foreach (KeyValuePair<IPAddress, Client> pair in _clients)
        {
            if (pair.Value.LastSeen < before)
            {
                _clients.TryRemove(pair);
            }
        }
    }

    /// <summary>
    /// The store, found once per set of stores: the host's set is one list per configuration, so that comparing it is one
    /// reference compare where finding the store would be a search per request.
    /// </summary>
    private ISharedStore? Store()
    {
        IReadOnlyList<ISharedStore> all = stores.All;
        Resolved? resolved = _resolved;
        if (resolved is null || !ReferenceEquals(resolved.All, all))
        {
            resolved = new Resolved(all, stores.Find(_storeName));
            _resolved = resolved;
        }

        return resolved.Store;
    }

    /// <summary>A client seen for the first time (or since its store was replaced): its counter, and its key built once.</summary>
    private Client Track(IPAddress client, ISharedStore store)
    {
        var entry = new Client(store, store.Counter(string.Concat(_keyPrefix, client.ToString()), Limit.Per));
        return _clients.AddOrUpdate(client, entry, (_, old) => ReferenceEquals(old.Store, store) ? old : entry);
    }

    private sealed record Resolved(IReadOnlyList<ISharedStore> All, ISharedStore? Store);

    /// <summary>
    /// One client's shared counter, and when it was last seen (for the sweep; reading the counter would keep the store
    /// exchanging it). The decision reads the counter's projected rate, which makes up for the age of what it knows of the
    /// other instances (it adds their recent pace times that age).
    /// </summary>
    private sealed class Client(ISharedStore store, ISharedCounter counter)
    {
        private bool _refused;

        public ISharedStore Store { get; } = store;

        public long LastSeen;

        public TakeResult Take(RateLimitOptions limit)
        {
            Volatile.Write(ref LastSeen, Environment.TickCount64);
            double estimate = counter.ProjectedRate;
            if (estimate < limit.Requests)
            {
                counter.Increment();
                _refused = false;
                return new TakeResult(true, TimeSpan.Zero, false, limit);
            }

            // The rate falls as the window slides: with the requests spread evenly over it, it is below the limit once
            // the oldest (estimate - requests + 1) of them have left it.
            bool first = !_refused;
            _refused = true;
            double fraction = Math.Min(1, (estimate - limit.Requests + 1) / estimate);
            return new TakeResult(false, limit.Per * fraction, first, limit);
        }
    }
}
