using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Tables;
using PluginProxy.Host.Configuration;
using PluginProxy.Host.Plugins;

namespace PluginProxy.Host.Tables;

/// <summary>
/// The stick tables of the running configuration, as plugins and scripts get them by injection (<see cref="IStickTables"/>):
/// one object for the host's life that always shows the configuration in use. A reload prepares the new configuration's
/// tables (<see cref="Prepare"/>: a table whose name and key are unchanged is kept, with its entries) and puts them in
/// use when it commits (<see cref="Commit"/>). Expired entries are swept once a second, driven by the host's heartbeat.
/// </summary>
internal sealed class StickTables : IStickTables, IDisposable
{
    /// <summary>How often expired entries are swept.</summary>
    public static readonly TimeSpan SweepPeriod = TimeSpan.FromSeconds(1);

    private volatile StickTableSet _current = StickTableSet.Empty;
    private Heartbeat.Registrations? _heartbeat;
    private Sweeper? _sweeper;

    /// <summary>The tables in use.</summary>
    public StickTableSet Current => _current;

    public IReadOnlyList<IStickTable> All => _current.All;

    public IStickTable? Find(string name) => _current.Find(name);

    /// <summary>
    /// The tables of <paramref name="configs"/>: those of the running configuration with the same name and key (their
    /// settings change only at <see cref="Commit"/>), new ones for the rest. Nothing running changes.
    /// </summary>
    /// <param name="configs">The configuration's tables.</param>
    /// <param name="stores">The configuration's stores, that a table's <c>store</c> names.</param>
    public StickTableSet Prepare(IReadOnlyList<StickTableConfig> configs, PluginProxy.Host.Stores.StoreSet? stores = null) =>
        new(configs.Select(c => _current.Find(c.Name) is { } kept && kept.KeySpec == c.KeySpec ? kept : new StickTable(c)));

    /// <summary>Puts <paramref name="next"/> (from <see cref="Prepare"/>) in use with the settings of <paramref name="configs"/>.</summary>
    public void Commit(StickTableSet next, IReadOnlyList<StickTableConfig> configs)
    {
        foreach (StickTableConfig config in configs)
        {
            next.Find(config.Name)?.Configure(config);
        }

        _current = next;
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
