using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Tables;
using PluginProxy.Host.Configuration;
using PluginProxy.Host.Plugins;
using PluginProxy.Host.Stores;

namespace PluginProxy.Host.Tables;

/// <summary>
/// The stick tables of the running configuration, as plugins and scripts get them by injection (<see cref="IStickTables"/>):
/// one object for the host's life that always shows the configuration in use. A reload prepares the new configuration's
/// tables (<see cref="Prepare"/>: a table whose name and key are unchanged is kept, with its entries) and puts them in
/// use when it commits (<see cref="Commit"/>). Expired entries are swept once a second, driven by the host's heartbeat.
/// <para>
/// A table with a <c>store</c> shares its entries (<see cref="TableShare"/>). The servers other instances share arrive
/// on the store's thread (<see cref="SharedStore.ValueReceived"/>, set here for the host's life) and go to the table of
/// that name in the running configuration, when that table shares through the very store they came from (a reload that
/// moved the table to another store leaves the old store's values out); the table of a configuration being prepared
/// gets them too, as a store starts before the tables of its configuration are committed.
/// </para>
/// </summary>
internal sealed class StickTables : IStickTables, IDisposable
{
    /// <summary>How often expired entries are swept.</summary>
    public static readonly TimeSpan SweepPeriod = TimeSpan.FromSeconds(1);

    /// <summary>Names this proxy instance in the servers its tables share.</summary>
    private readonly string _origin = Guid.NewGuid().ToString("N")[..16];
    private volatile StickTableSet _current = StickTableSet.Empty;
    private volatile StickTableSet? _prepared;
    private Heartbeat.Registrations? _heartbeat;
    private Sweeper? _sweeper;

    /// <summary>The tables in use.</summary>
    public StickTableSet Current => _current;

    public IReadOnlyList<IStickTable> All => _current.All;

    public IStickTable? Find(string name) => _current.Find(name);

    /// <summary>
    /// The tables of <paramref name="configs"/>: those of the running configuration with the same name and key (their
    /// settings change only at <see cref="Commit"/>), new ones for the rest, each with the store it names. Nothing
    /// running changes, except that a store the tables name hands the servers it receives to these tables from now on.
    /// </summary>
    /// <param name="configs">The configuration's tables.</param>
    /// <param name="stores">The configuration's stores, that a table's <c>store</c> names.</param>
    public StickTableSet Prepare(IReadOnlyList<StickTableConfig> configs, StoreSet? stores = null)
    {
        var tables = new List<(StickTable, SharedStore?)>(configs.Count);
        foreach (StickTableConfig config in configs)
        {
            StickTable table = _current.Find(config.Name) is { } kept && kept.KeySpec == config.KeySpec ? kept : new StickTable(config);
            SharedStore? store = config.Store is { } named ? stores?.Find(named.Name) : null;
            if (store is not null && !(store.ValueReceived?.Target is StoreListener listener && listener.Owner == this))
            {
                store.ValueReceived = new StoreListener(this, store).Receive;
            }

            tables.Add((table, store));
        }

        var prepared = new StickTableSet(tables);
        _prepared = prepared;
        return prepared;
    }

    /// <summary>Puts <paramref name="next"/> (from <see cref="Prepare"/>) in use with the settings of <paramref name="configs"/>.</summary>
    public void Commit(StickTableSet next, IReadOnlyList<StickTableConfig> configs)
    {
        foreach (StickTableConfig config in configs)
        {
            if (next.Find(config.Name) is { } table)
            {
                table.Configure(config);
                table.UseStore(next.StoreOf(config.Name), _origin);
            }
        }

        _current = next;
        _prepared = null;
    }

    /// <summary>A server another instance shared, through <paramref name="store"/> (on the store's thread).</summary>
    private void Receive(SharedStore store, string key, string value)
    {
        if (!TableShare.TryParseKey(key, out string name, out string entryKey)
            || !TableShare.TryParseServer(value, out long stamp, out string origin, out string? server))
        {
            return; // not a stick table's value, or not one this version writes
        }

        StickTableSet current = _current;
        StickTable? applied = null;
        if (current.Find(name) is { } running && ReferenceEquals(current.StoreOf(name), store))
        {
            running.ApplyShared(entryKey, server, stamp, origin);
            applied = running;
        }

        if (_prepared is { } prepared && prepared.Find(name) is { } next && next != applied && ReferenceEquals(prepared.StoreOf(name), store))
        {
            next.ApplyShared(entryKey, server, stamp, origin);
        }
    }

    /// <summary>Starts sweeping expired entries on the host's heartbeat.</summary>
    public void StartSweeping(ILogger log)
    {
        _heartbeat = Heartbeat.Shared.Open(log);
        _sweeper = new Sweeper(this);
        _heartbeat.Add(_sweeper);
    }

    public void Dispose()
    {
        _heartbeat?.Dispose();
        _heartbeat = null;
    }

    /// <summary>What a store calls with the values it receives: hands them to its owner with the store they came through.</summary>
    private sealed class StoreListener(StickTables owner, SharedStore store)
    {
        public StickTables Owner => owner;

        public void Receive(string key, string value) => owner.Receive(store, key, value);
    }

    /// <summary>Asks for a sweep once per <see cref="SweepPeriod"/>; the sweep itself runs on the thread pool (a beat must not block).</summary>
    private sealed class Sweeper(StickTables owner) : IExpiring
    {
        private long _next = Environment.TickCount64 + (long)SweepPeriod.TotalMilliseconds;
        private int _running;

        public bool IsExpired(long now) => now >= Volatile.Read(ref _next);

        public void Expire(long now)
        {
            Volatile.Write(ref _next, now + (long)SweepPeriod.TotalMilliseconds);
            if (owner._current.Tables.Count == 0 || Interlocked.Exchange(ref _running, 1) == 1)
            {
                return;
            }

            ThreadPool.UnsafeQueueUserWorkItem(static sweeper => sweeper.Run(), this, preferLocal: false);
        }

        private void Run()
        {
            try
            {
                foreach (StickTable table in owner._current.Tables)
                {
                    table.Sweep();
                }
            }
            finally
            {
                Volatile.Write(ref _running, 0);
            }
        }
    }
}
