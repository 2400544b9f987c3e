using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions.Stores;

namespace PluginProxy.Host.Stores;

/// <summary>
/// The shared stores of the running configuration, as plugins and scripts get them by injection (<see cref="IStores"/>):
/// one object for the host's life that always shows the configuration in use. A reload prepares the new configuration's
/// stores (<see cref="Prepare"/>: a store whose settings are unchanged is kept, with its connection and counters) and
/// puts them in use when it commits (<see cref="CommitAsync"/>), which starts the new ones and closes those it dropped.
/// </summary>
internal sealed class StoreCatalog(ILoggerFactory loggers) : IStores, IAsyncDisposable
{
    private volatile StoreSet _current = StoreSet.Empty;

    /// <summary>The stores in use.</summary>
    public StoreSet Current => _current;

    public IReadOnlyList<ISharedStore> All => _current.All;

    public ISharedStore? Find(string name) => _current.Find(name);

    /// <summary>The stores of <paramref name="configs"/>: the running ones whose settings are the same, new ones (not started) for the rest.</summary>
    public StoreSet Prepare(IReadOnlyList<StoreConfig> configs) =>
        new(configs.Select(c => _current.Find(c.Name) is { } kept && kept.Config.SameConnection(c)
            ? kept
            : new SharedStore(c, loggers.CreateLogger("PluginProxy.Store"))));

    /// <summary>Puts <paramref name="next"/> in use: starts its new stores, then closes the running ones it does not keep.</summary>
    public async Task CommitAsync(StoreSet next)
    {
        foreach (SharedStore store in next.Stores)
        {
            store.Start();
        }

        StoreSet previous = _current;
        _current = next;
        foreach (SharedStore dropped in previous.Stores.Where(s => !next.Stores.Contains(s)))
        {
            await dropped.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Closes the stores of a configuration that was prepared and then refused (those it shares with the running one stay).</summary>
    public async Task AbandonAsync(StoreSet prepared)
    {
        foreach (SharedStore store in prepared.Stores.Where(s => !_current.Stores.Contains(s)))
        {
            await store.DisposeAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        StoreSet current = _current;
        _current = StoreSet.Empty;
        foreach (SharedStore store in current.Stores)
        {
            await store.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>The shared stores of one configuration version, by name.</summary>
internal sealed class StoreSet : IStores
{
    private readonly SharedStore[] _stores;

    public StoreSet(IEnumerable<SharedStore> stores) => _stores = stores.ToArray();

    public static StoreSet Empty { get; } = new([]);

    public IReadOnlyList<ISharedStore> All => _stores;

    public IReadOnlyList<SharedStore> Stores => _stores;

    ISharedStore? IStores.Find(string name) => Find(name);

    /// <summary>The store named <paramref name="name"/>, or null. A loop: scripts may call it per request, and a lambda capturing the name would allocate.</summary>
    public SharedStore? Find(string name)
    {
        foreach (SharedStore store in _stores)
        {
            if (store.Name == name)
            {
                return store;
            }
        }

        return null;
    }
}
