using PluginProxy.Host.Configuration;
using PluginProxy.Host.Stores;

namespace PluginProxy.Host.Admin;

/// <summary>
/// What <c>/api/stats</c> and <c>/api/dashboard</c> say of each <c>[[store]]</c>: its settings, whether it shares now
/// and since when, why it was last down, and its exchange counts, so that an operator sees at a glance whether the
/// instances share their limits or each counts alone.
/// </summary>
internal static class StoreStats
{
    public static IEnumerable<object> Describe(ProxyHost host) => host.Stores.Current.Stores.Select(Describe);

    private static object Describe(SharedStore store)
    {
        StoreStatus status = store.Status;
        return new
        {
            name = store.Name,
            kind = store.Config.Kind,
            address = store.Config.Address,
            state = status.State.ToString().ToLowerInvariant(),
            since = DateTimeOffset.FromUnixTimeMilliseconds(status.Since),
            last_failure = status.Reason,
            exchanges = store.Exchanges,
            failures = store.FailedExchanges,
            last_exchange_ms = store.LastExchangeDuration.TotalMilliseconds,
            counters = store.CounterCount,
            sync_interval = Units.Format(store.SyncInterval),
            on_store_failure = store.Config.FailClosed ? "closed" : "open",
        };
    }
}
