using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions.Stores;

namespace PluginProxy.Host.Stores;

/// <summary>
/// One <c>[[store]]</c> (<see cref="ISharedStore"/>): the counters and values this instance shares through it, and the
/// loop that exchanges them with the server every <see cref="SyncInterval"/> (SharedStore.Redis.cs). Nothing a stream
/// calls waits for the server: counters count locally, values are queued, and the loop sends both in one pipelined
/// batch. While the server is unreachable the counters hold this instance's counts only (the store is
/// <see cref="StoreState.Down"/>); the loop keeps trying and resumes sharing when it answers.
/// </summary>
internal sealed partial class SharedStore : ISharedStore, IAsyncDisposable
{
    private readonly ConcurrentDictionary<(string Key, long WindowMs), SharedCounter> _counters = new();
    private readonly ConcurrentQueue<(string Key, string Value, TimeSpan Ttl)> _values = new();
    private readonly TimeProvider _clock;
    private readonly ILogger _log;
    private volatile StoreStatus _status;

    public SharedStore(StoreConfig config, ILogger log, TimeProvider? clock = null)
    {
        Config = config;
        _log = log;
        _clock = clock ?? TimeProvider.System;
        _status = new StoreStatus(StoreState.Connecting, Now, null);
    }

    public StoreConfig Config { get; }

    public string Name => Config.Name;

    public TimeSpan SyncInterval => Config.SyncInterval;

    /// <summary>How long an exchange may take before the store counts as down.</summary>
    internal TimeSpan Timeout => Config.Timeout;

    public StoreState State => _status.State;

    public bool Refusing => Config.FailClosed && _status.State != StoreState.Up;

    /// <summary>The state, since when it holds (Unix milliseconds), and the last failure's reason.</summary>
    public StoreStatus Status => _status;

    /// <summary>Put before every key this store writes.</summary>
    internal string Prefix => Config.Prefix;

    /// <summary>The store's clock: Unix milliseconds (windows are numbered alike on every instance).</summary>
    internal long Now => _clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Counters in use.</summary>
    public int CounterCount => _counters.Count;

    /// <summary>Exchanges that succeeded and failed since start.</summary>
    public long Exchanges => Interlocked.Read(ref _exchanges);

    public long FailedExchanges => Interlocked.Read(ref _failedExchanges);

    /// <summary>How long the last successful exchange took.</summary>
    public TimeSpan LastExchangeDuration { get; private set; }

    /// <summary>
    /// Called with each value another instance shared (<see cref="ShareValue"/>), and with every value the server holds
    /// when the store connects or reconnects; on the store's own thread, never on a stream's.
    /// </summary>
    public Action<string, string>? ValueReceived { get; set; }

    private long _exchanges;
    private long _failedExchanges;

    public ISharedCounter Counter(string key, TimeSpan window)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (window <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(window), window, "a counter's window must be positive");
        }

        long windowMs = Math.Max(1, (long)window.TotalMilliseconds);
        return _counters.TryGetValue((key, windowMs), out SharedCounter? counter)
            ? counter
            : _counters.GetOrAdd((key, windowMs), static (k, store) => new SharedCounter(store, k.Key, TimeSpan.FromMilliseconds(k.WindowMs), store.Now), this);
    }

    /// <summary>Takes back a counter the exchanges had forgotten and that is used again.</summary>
    internal void Register(SharedCounter counter) => _counters.TryAdd((counter.Key, counter.WindowMs), counter);

    /// <summary>
    /// Shares <paramref name="value"/> under <paramref name="key"/> with the other instances: sent with the next exchange,
    /// kept by the server for <paramref name="ttl"/> (so that an instance that starts later learns it too).
    /// </summary>
    public void ShareValue(string key, string value, TimeSpan ttl) => _values.Enqueue((key, value, ttl));

    /// <summary>Forgets the counters unused for two of their windows (and at least two exchanges) with nothing left to send.</summary>
    private void RetireIdleCounters(long now)
    {
        foreach (KeyValuePair<(string Key, long WindowMs), SharedCounter> pair in _counters)
        {
            long idleFor = Math.Max(2 * pair.Key.WindowMs, 2 * (long)SyncInterval.TotalMilliseconds);
            if (pair.Value.TryRetire(now - idleFor))
            {
                _counters.TryRemove(pair);
            }
        }
    }

    private void SetState(StoreState state, string? reason)
    {
        StoreStatus previous = _status;
        if (previous.State == state)
        {
            if (reason is not null && previous.Reason != reason)
            {
                _status = previous with { Reason = reason };
            }

            return;
        }

        long now = Now;
        // The reason stays after a recovery: stats show why the store was last down.
        _status = new StoreStatus(state, now, reason ?? previous.Reason);
        string policy = Config.FailClosed ? "on_store_failure = \"closed\": shared limits refuse" : "fail-open";
        switch (state)
        {
            case StoreState.Up when previous.State == StoreState.Down:
                StoreLog.Recovered(_log, Name, Config.Address, Configuration.Units.Format(TimeSpan.FromMilliseconds(now - previous.Since)));
                break;
            case StoreState.Up:
                StoreLog.Up(_log, Name, Config.Address);
                break;
            case StoreState.Down:
                StoreLog.Lost(_log, Name, Config.Address, reason ?? "unknown", policy);
                break;
        }
    }
}

/// <summary>A store's state, since when it holds (Unix milliseconds), and the reason of the last failure, if any.</summary>
internal sealed record StoreStatus(StoreState State, long Since, string? Reason);
