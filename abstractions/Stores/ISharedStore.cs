namespace PluginProxy.Abstractions.Stores;

/// <summary>
/// One <c>[[store]]</c>: counters shared by every instance of the proxy that names it. Counting never waits for the
/// store: each instance counts locally and exchanges what it counted every <see cref="SyncInterval"/>, so what a
/// counter says of the other instances is at most one exchange old.
/// </summary>
public interface ISharedStore
{
    /// <summary>The store's <c>name</c>.</summary>
    string Name { get; }

    /// <summary>Whether the store shares now.</summary>
    StoreState State { get; }

    /// <summary>How often this instance exchanges its counts (<c>sync_interval</c>).</summary>
    TimeSpan SyncInterval { get; }

    /// <summary>
    /// True while the store is not <see cref="StoreState.Up"/> and it is configured <c>on_store_failure = "closed"</c>:
    /// a decision that needs every instance's counts should refuse rather than count alone.
    /// </summary>
    bool Refusing { get; }

    /// <summary>
    /// The counter of <paramref name="key"/> over windows of <paramref name="window"/>, the same on every instance that
    /// asks for that key and window. Keep the counter for a key that is used often: it is found in a dictionary.
    /// </summary>
    ISharedCounter Counter(string key, TimeSpan window);

    /// <summary>Counts <paramref name="delta"/> on the counter of <paramref name="key"/> and returns its rate after that (see <see cref="ISharedCounter.Increment"/>).</summary>
    double Increment(string key, TimeSpan window, long delta = 1) => Counter(key, window).Increment(delta);
}
