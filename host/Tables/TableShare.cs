using System.Globalization;
using PluginProxy.Abstractions.Stores;
using PluginProxy.Host.Stores;

namespace PluginProxy.Host.Tables;

/// <summary>
/// How a stick table with a <c>store</c> shares its entries: through which <see cref="SharedStore"/>, over which rate
/// window, and under which keys. A table holds one while its configuration names a store; a reload that changes the
/// store or the rate period gives the table a new one, and each entry then resolves its counters again (once: an entry
/// keeps them while the table keeps this object). What is shared: the request and error rates (counters named
/// <c>st:&lt;table&gt;:&lt;key&gt;:req</c> and <c>:err</c>, one window of <c>rate_period</c>) and the server of a key
/// (a value named <c>st:&lt;table&gt;\n&lt;key&gt;</c>, kept by the store for the table's <c>expire</c>). What is not:
/// the totals and the open connections, which stay this instance's own.
/// </summary>
internal sealed class TableShare
{
    /// <summary>Starts the key of every value a stick table shares (the store's other users pick other keys).</summary>
    public const string ValuePrefix = "st:";

    private readonly string _counterPrefix;

    public TableShare(SharedStore store, string table, TimeSpan window, string origin)
    {
        Store = store;
        Table = table;
        Window = window;
        Origin = origin;
        _counterPrefix = string.Concat(ValuePrefix, table, ":");
    }

    public SharedStore Store { get; }

    public string Table { get; }

    /// <summary>The rate window of the counters: the table's <c>rate_period</c>.</summary>
    public TimeSpan Window { get; }

    /// <summary>Names this proxy instance in the servers it shares (the tie-break of two changes stamped alike).</summary>
    public string Origin { get; }

    /// <summary>The store's clock (Unix milliseconds), that stamps a shared server.</summary>
    public long Now => Store.Now;

    /// <summary>The shared counters of one key (called once per entry, and again after a reload changed the share).</summary>
    public EntryCounters CountersOf(string key) => new(
        this,
        Store.Counter(string.Concat(_counterPrefix, key, ":req"), Window),
        Store.Counter(string.Concat(_counterPrefix, key, ":err"), Window));

    /// <summary>
    /// Sends the server of <paramref name="key"/> to the other instances (with the next exchange; nothing waits). The
    /// value is <c>&lt;stamp&gt; &lt;origin&gt; &lt;server&gt;</c>, the server empty when the key sticks to none.
    /// </summary>
    /// <param name="key">The entry's key.</param>
    /// <param name="server">Its server, or null.</param>
    /// <param name="stamp">When the server was set (the store's clock).</param>
    /// <param name="expire">How long the store keeps the value: the table's <c>expire</c>.</param>
    /// <param name="origin">The instance that set it (this one unless the entry heard of it from another).</param>
    public void ShareServer(string key, string? server, long stamp, TimeSpan expire, string? origin = null) =>
        Store.ShareValue(
            string.Concat(ValuePrefix, Table, "\n", key),
            string.Concat(stamp.ToString(CultureInfo.InvariantCulture), " ", origin ?? Origin, " ", server),
            expire);

    /// <summary>Splits a shared value's key into its table and entry key; false when it is not a stick table's.</summary>
    public static bool TryParseKey(string key, out string table, out string entryKey)
    {
        table = entryKey = "";
        int newline = key.StartsWith(ValuePrefix, StringComparison.Ordinal) ? key.IndexOf('\n', ValuePrefix.Length) : -1;
        if (newline < 0)
        {
            return false;
        }

        table = key[ValuePrefix.Length..newline];
        entryKey = key[(newline + 1)..];
        return true;
    }

    /// <summary>Reads a shared server value (see <see cref="ShareServer"/>); false when it is malformed.</summary>
    public static bool TryParseServer(string value, out long stamp, out string origin, out string? server)
    {
        origin = "";
        server = null;
        int first = value.IndexOf(' ');
        int second = first < 0 ? -1 : value.IndexOf(' ', first + 1);
        if (second < 0 || !long.TryParse(value.AsSpan(0, first), NumberStyles.None, CultureInfo.InvariantCulture, out stamp))
        {
            stamp = 0;
            return false;
        }

        origin = value[(first + 1)..second];
        server = second + 1 < value.Length ? value[(second + 1)..] : null;
        return true;
    }
}

/// <summary>The shared counters of one entry, for the <see cref="TableShare"/> they were resolved with.</summary>
internal sealed record EntryCounters(TableShare Share, ISharedCounter Requests, ISharedCounter Errors);
