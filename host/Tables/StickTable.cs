using System.Collections.Concurrent;
using System.Net;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;
using PluginProxy.Abstractions.Tables;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Tables;

/// <summary>
/// One <c>[[stick_table]]</c>: a concurrent dictionary of <see cref="StickEntry"/> by key. Looking up an existing key
/// from a stream allocates nothing (the key is formatted into a stack buffer and found through the dictionary's span
/// lookup). An entry lives <see cref="Expire"/> after its last use (<see cref="Sweep"/> removes it; until then a key
/// that comes back starts over); when the table holds <see cref="Size"/> entries, a new key makes room by evicting the
/// entries used least recently (a sixteenth of the table at once, so the scan is paid once per many inserts). Entries
/// with open connections are neither expired nor evicted. A table with a <c>store</c> shares its rates and servers
/// with the other instances (<see cref="Share"/>, <see cref="TableShare"/>).
/// </summary>
internal sealed class StickTable : IStickTable
{
    private readonly ConcurrentDictionary<string, StickEntry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, StickEntry>.AlternateLookup<ReadOnlySpan<char>> _bySpan;
    private readonly Lock _evicting = new();
    private readonly Func<long> _clock;
    private readonly KeyKind _kind;
    private readonly string? _keyName;
    private int _count;
    private volatile int _size;
    private long _expireMs;
    private long _ratePeriodMs;
    private volatile TableShare? _share;

    /// <param name="config">The table's settings.</param>
    /// <param name="clock">The time in milliseconds (<see cref="Environment.TickCount64"/> unless a test drives it).</param>
    public StickTable(StickTableConfig config, Func<long>? clock = null)
    {
        Name = config.Name;
        KeySpec = config.KeySpec;
        _clock = clock ?? (() => Environment.TickCount64);
        _bySpan = _entries.GetAlternateLookup<ReadOnlySpan<char>>();
        int colon = KeySpec.IndexOf(':');
        _kind = colon < 0 ? KeyKind.Source : KeySpec[..colon] == "header" ? KeyKind.Header : KeyKind.Cookie;
        _keyName = colon < 0 ? null : KeySpec[(colon + 1)..];
        Configure(config);
    }

    private enum KeyKind
    {
        Source,
        Header,
        Cookie,
    }

    public string Name { get; }

    public string KeySpec { get; }

    public int Size => _size;

    public TimeSpan Expire => TimeSpan.FromMilliseconds(Interlocked.Read(ref _expireMs));

    public TimeSpan RatePeriod => TimeSpan.FromMilliseconds(RatePeriodMs);

    public int Count => Volatile.Read(ref _count);

    /// <summary>True when the key is the client's address (known at accept: connections are counted).</summary>
    public bool KeyedBySource => _kind == KeyKind.Source;

    internal long Now => _clock();

    internal long RatePeriodMs => Interlocked.Read(ref _ratePeriodMs);

    /// <summary>How the table shares its entries, or null when it has no <c>store</c> (or has not been committed yet).</summary>
    internal TableShare? Share => _share;

    /// <summary>
    /// Shares the entries through <paramref name="store"/> (null: keeps them local), after <see cref="Configure"/>. The
    /// share is kept when neither the store nor the rate period changed, so the entries keep their counters.
    /// </summary>
    public void UseStore(Stores.SharedStore? store, string origin)
    {
        TimeSpan window = RatePeriod;
        if (store is null)
        {
            _share = null;
        }
        else if (_share is not { } share || !ReferenceEquals(share.Store, store) || share.Window != window)
        {
            TableShare? previous = _share;
            var next = new TableShare(store, Name, window, origin);
            _share = next;
            if (!ReferenceEquals(previous?.Store, store))
            {
                // The servers the entries stick to reach the instances of the new store too.
                foreach (StickEntry entry in _entries.Values)
                {
                    entry.ShareServer(next);
                }
            }
        }
    }

    /// <summary>
    /// Another instance's server for <paramref name="key"/>: the entry is created when missing, no request counted. When
    /// the entry holds a later server than the one received, it shares its own (the store's value was stale).
    /// </summary>
    public void ApplyShared(string key, string? server, long stamp, string origin)
    {
        StickEntry entry = Track(key.AsSpan(), key);
        if (entry.ApplyShared(server, stamp, origin) && _share is { } share)
        {
            entry.ShareServer(share);
        }
    }

    /// <summary>Applies the settings of a configuration (a reload that keeps the table changes its size, expiry or rate period).</summary>
    public void Configure(StickTableConfig config)
    {
        _size = config.Size;
        Interlocked.Exchange(ref _expireMs, (long)config.Expire.TotalMilliseconds);
        Interlocked.Exchange(ref _ratePeriodMs, Math.Max(1, (long)config.RatePeriod.TotalMilliseconds));
    }

    public string? KeyOf(ProxyStream stream)
    {
        Span<char> buffer = stackalloc char[64];
        return TryKey(stream, buffer, out ReadOnlySpan<char> key) ? key.ToString() : null;
    }

    public IStickEntry Track(string key) => Track(key.AsSpan(), key);

    public IStickEntry? Find(string key) => Find(key.AsSpan());

    public IStickEntry? TrackOf(ProxyStream stream)
    {
        Span<char> buffer = stackalloc char[64];
        return TryKey(stream, buffer, out ReadOnlySpan<char> key) ? Track(key, null) : null;
    }

    public IStickEntry? FindOf(ProxyStream stream)
    {
        Span<char> buffer = stackalloc char[64];
        return TryKey(stream, buffer, out ReadOnlySpan<char> key) ? Find(key) : null;
    }

    /// <summary>The entry of a client address (a <c>source</c> table's key), created when missing; null for another address kind.</summary>
    public StickEntry? TrackAddress(EndPoint? client)
    {
        Span<char> buffer = stackalloc char[64];
        return TryFormat(client, buffer, out ReadOnlySpan<char> key) ? Track(key, null) : null;
    }

    /// <summary>The entry of <paramref name="key"/> (<paramref name="keyString"/> when the caller has it as a string), created when missing.</summary>
    public StickEntry Track(ReadOnlySpan<char> key, string? keyString)
    {
        long now = Now;
        if (_bySpan.TryGetValue(key, out StickEntry? entry))
        {
            if (entry.IsExpired(now, Interlocked.Read(ref _expireMs)))
            {
                entry.Restart(now);
            }

            entry.Touch(now);
            return entry;
        }

        if (Count >= _size)
        {
            MakeRoom();
        }

        var created = new StickEntry(this, keyString ?? key.ToString(), now);
        if (_entries.TryAdd(created.Key, created))
        {
            Interlocked.Increment(ref _count);
            return created;
        }

        // Another stream added the key meanwhile: use theirs.
        return Track(key, keyString);
    }

    private StickEntry? Find(ReadOnlySpan<char> key) =>
        _bySpan.TryGetValue(key, out StickEntry? entry) && !entry.IsExpired(Now, Interlocked.Read(ref _expireMs)) ? entry : null;

    /// <summary>Every entry (for the runtime API), in no particular order.</summary>
    public IEnumerable<StickEntry> Entries => _entries.Values;

    /// <summary>Removes the entries that expired by now (and, in a shared table, shares again the servers of the keys in use); returns how many.</summary>
    public int Sweep()
    {
        long now = Now;
        long expire = Interlocked.Read(ref _expireMs);
        int removed = 0;
        TableShare? share = _share;
        foreach (KeyValuePair<string, StickEntry> pair in _entries)
        {
            if (pair.Value.IsExpired(now, expire))
            {
                removed += Remove(pair) ? 1 : 0;
            }
            else if (share is not null)
            {
                pair.Value.RefreshShare(share, now, expire);
            }
        }

        return removed;
    }

    /// <summary>Evicts the least recently used sixteenth of the table (at least one entry), entries with connections spared.</summary>
    private void MakeRoom()
    {
        lock (_evicting)
        {
            if (Count < _size)
            {
                return; // another stream made room meanwhile
            }

            Sweep();
            int wanted = Count - _size + Math.Max(1, _size / 16);
            if (wanted <= 0 || Count < _size)
            {
                return;
            }

            // A max-heap (by last use) of the oldest entries seen: the newest of them leaves when an older one comes.
            var oldest = new PriorityQueue<KeyValuePair<string, StickEntry>, long>(wanted + 1, Comparer<long>.Create((a, b) => b.CompareTo(a)));
            foreach (KeyValuePair<string, StickEntry> pair in _entries)
            {
                if (pair.Value.Connections > 0)
                {
                    continue;
                }

                oldest.Enqueue(pair, pair.Value.LastUsed);
                if (oldest.Count > wanted)
                {
                    oldest.Dequeue();
                }
            }

            while (oldest.TryDequeue(out KeyValuePair<string, StickEntry> pair, out _))
            {
                Remove(pair);
            }
        }
    }

    private bool Remove(KeyValuePair<string, StickEntry> pair)
    {
        if (!_entries.TryRemove(pair))
        {
            return false;
        }

        Interlocked.Decrement(ref _count);
        return true;
    }

    /// <summary>This stream's key, written into <paramref name="buffer"/> when it must be formatted (an address).</summary>
    private bool TryKey(ProxyStream stream, Span<char> buffer, out ReadOnlySpan<char> key)
    {
        if (_kind == KeyKind.Source)
        {
            return TryFormat(stream.Session.Connection.ClientEndPoint, buffer, out key);
        }

        key = default;
        if (stream.Http is not { HasRequest: true } http)
        {
            return false;
        }

        if (_kind == KeyKind.Header)
        {
            if (http.Request.Headers.Get(_keyName!) is not { } value)
            {
                return false;
            }

            key = value;
            return true;
        }

        return HttpCookies.TryFind(http.Request.Headers, _keyName, out key);
    }

    private static bool TryFormat(EndPoint? client, Span<char> buffer, out ReadOnlySpan<char> key)
    {
        key = default;
        if (client is not IPEndPoint { Address: var address })
        {
            return false;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (!address.TryFormat(buffer, out int written))
        {
            return false;
        }

        key = buffer[..written];
        return true;
    }
}
