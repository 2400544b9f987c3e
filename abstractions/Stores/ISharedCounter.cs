namespace PluginProxy.Abstractions.Stores;

/// <summary>
/// A counter shared through a store (<see cref="ISharedStore.Counter"/>): events per <see cref="Window"/>, summed over
/// every instance. The rate is a sliding-window estimate, as HAProxy's: the count of the current window plus the
/// previous window's count weighted by the part of it still inside the last <see cref="Window"/>.
/// </summary>
public interface ISharedCounter
{
    /// <summary>The key, as asked for.</summary>
    string Key { get; }

    /// <summary>The window rates are counted over.</summary>
    TimeSpan Window { get; }

    /// <summary>
    /// Counts <paramref name="delta"/> events now, here; the store hears of them with the next exchange. Returns
    /// <see cref="Rate"/> after counting them. Never waits for the store.
    /// </summary>
    double Increment(long delta = 1);

    /// <summary>Events in the last <see cref="Window"/> over every instance: this one's up to now, the others' as of the last exchange.</summary>
    double Rate { get; }

    /// <summary>
    /// <see cref="Rate"/> plus what the other instances probably counted since the last exchange, at the pace the store's
    /// answers showed: the better estimate for a limit that many instances enforce together (steady traffic stays within
    /// a few percent of it), but a projection, so it may exceed what was counted. Read <see cref="Rate"/> to report counts.
    /// </summary>
    double ProjectedRate => Rate;

    /// <summary>Events in the last <see cref="Window"/> counted by this instance alone.</summary>
    double LocalRate { get; }
}
