namespace PluginProxy.Abstractions.Tables;

/// <summary>
/// One stick table: entries keyed by a client's source address, a header or a cookie, each with counters and the
/// server the key sticks to. Entries expire <see cref="Expire"/> after their last use; when the table is full the entry
/// used least recently makes room. Safe to use from any thread.
/// </summary>
public interface IStickTable
{
    /// <summary>The table's <c>name</c>.</summary>
    string Name { get; }

    /// <summary>What the key is, as configured: <c>source</c>, <c>header:&lt;name&gt;</c> or <c>cookie:&lt;name&gt;</c>.</summary>
    string KeySpec { get; }

    /// <summary>The most entries the table keeps (<c>size</c>).</summary>
    int Size { get; }

    /// <summary>How long an entry lives after its last use (<c>expire</c>).</summary>
    TimeSpan Expire { get; }

    /// <summary>The period over which rates are counted (<c>rate_period</c>).</summary>
    TimeSpan RatePeriod { get; }

    /// <summary>Entries in the table now.</summary>
    int Count { get; }

    /// <summary>This stream's key under <see cref="KeySpec"/>, or null when the stream has none (no such header or cookie).</summary>
    string? KeyOf(ProxyStream stream);

    /// <summary>The entry of <paramref name="key"/>, created when missing; its expiry starts again.</summary>
    IStickEntry Track(string key);

    /// <summary>The entry of <paramref name="key"/>, or null; its expiry is not touched.</summary>
    IStickEntry? Find(string key);

    /// <summary>
    /// The entry of this stream's key, created when missing (as <see cref="Track"/>), or null when the stream has no key.
    /// The host's tables find an existing entry without allocating.
    /// </summary>
    IStickEntry? TrackOf(ProxyStream stream) => KeyOf(stream) is { } key ? Track(key) : null;

    /// <summary>The entry of this stream's key (as <see cref="Find"/>), or null when there is none or the stream has no key.</summary>
    IStickEntry? FindOf(ProxyStream stream) => KeyOf(stream) is { } key ? Find(key) : null;
}
