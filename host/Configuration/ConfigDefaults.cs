using PluginProxy.Abstractions;

namespace PluginProxy.Host.Configuration;

/// <summary>The values of [defaults], before listeners and backends override them.</summary>
internal sealed class ConfigDefaults
{
    public ProxyTimeouts Timeouts { get; init; } = new();
    public int MaxRequestHead { get; init; } = 16384;

    /// <summary>
    /// Keys of [defaults] that plugins read (<see cref="ConfigKeys.DefaultsForPlugins"/>), as written: a listener that
    /// leaves one out gets it in <see cref="ListenerSettings.Table"/>, where the plugin binds it (and reports it, at [defaults]).
    /// </summary>
    public IReadOnlyList<TomlEntry> PluginEntries { get; init; } = [];
    public int BufferSize { get; init; } = 65536;
    public int MaxConn { get; init; } = 10000;
    public int? Backlog { get; init; }
    public int Retries { get; init; } = 3;
    public BalanceAlgorithm Balance { get; init; } = BalanceAlgorithm.RoundRobin;
    public HttpReuse HttpReuse { get; init; } = HttpReuse.Safe;

    /// <summary><c>resolve_interval</c>: how often backends resolve the names of their servers again.</summary>
    public TimeSpan ResolveInterval { get; init; } = DnsSettings.DefaultInterval;
    /// <summary><c>hash_key</c>: what <c>balance = "hash"</c> hashes unless a backend says.</summary>
    public (HashKeySource Source, string? Name) HashKey { get; init; } = (HashKeySource.Source, null);

    /// <summary>The headers listeners capture into the access log unless they list their own.</summary>
    public HeaderCapture Capture { get; init; } = HeaderCapture.None;

    /// <summary>Reads [defaults]: what listeners and backends inherit unless they set it themselves.</summary>
    public static ConfigDefaults Bind(TableReader? table)
    {
        if (table is null)
        {
            return new ConfigDefaults();
        }

        var builtIn = new ConfigDefaults();
        ProxyTimeouts timeouts = CommonKeys.ReadTimeouts(table, builtIn.Timeouts, ConfigKeys.ListenerTimeouts);
        timeouts = CommonKeys.ReadTimeouts(table, timeouts, ConfigKeys.BackendTimeouts);
        var defaults = new ConfigDefaults
        {
            Timeouts = timeouts,
            MaxRequestHead = (int)(table.Size("max_request_head", 256, 1 << 20) ?? builtIn.MaxRequestHead),
            PluginEntries = TakePluginEntries(table),
            BufferSize = (int)(table.Size("buffer_size", 1024, 16 << 20) ?? builtIn.BufferSize),
            MaxConn = (int)(table.Integer("maxconn", 1, 1_000_000) ?? builtIn.MaxConn),
            Backlog = (int?)table.Integer("backlog", 1, 65535),
            Retries = (int)(table.Integer("retries", 0, 100) ?? builtIn.Retries),
            Balance = CommonKeys.ReadBalance(table) ?? builtIn.Balance,
            HttpReuse = CommonKeys.ReadHttpReuse(table) ?? builtIn.HttpReuse,
            Capture = AccessLogKeys.ReadCapture(table, builtIn.Capture),
            ResolveInterval = DnsKeys.ReadInterval(table) ?? builtIn.ResolveInterval,
            HashKey = PersistenceKeys.ReadHashKey(table) ?? builtIn.HashKey,
        };
        table.RejectUnknownKeys(ConfigKeys.Defaults);
        return defaults;
    }

    private static List<TomlEntry> TakePluginEntries(TableReader table)
    {
        var entries = new List<TomlEntry>();
        foreach (string key in ConfigKeys.DefaultsForPlugins)
        {
            if (table.Table.Find(key) is { } entry)
            {
                entry.Used = true;
                entries.Add(entry);
            }
        }

        return entries;
    }
}
