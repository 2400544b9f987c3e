using PluginProxy.Host.Tables;

namespace PluginProxy.Host.Admin;

/// <summary>
/// The stick tables in the runtime API (HAProxy's <c>show table</c>): <c>GET /api/tables</c> lists them (name, key,
/// size, count, expiry, rate period, and the store a shared table goes through with its state), <c>GET /api/tables/&lt;name&gt;</c> adds their entries, the most recently used first.
/// </summary>
internal static class TableApi
{
    /// <summary>The most entries one answer shows.</summary>
    public const int MaxEntries = 1000;

    public static AdminResponse List(ProxyHost host) => RuntimeApi.Json(200, new { tables = host.StickTables.Current.Tables.Select(Describe) });

    public static AdminResponse Show(ProxyHost host, string name)
    {
        if (host.StickTables.Current.Find(name) is not { } table)
        {
            string names = string.Join(", ", host.StickTables.Current.Tables.Select(t => $"\"{t.Name}\"")) is { Length: > 0 } list ? list : "none";
            return RuntimeApi.Problem(404, $"no stick table named \"{name}\"; the tables are: {names}");
        }

        Dictionary<string, object?> answer = Describe(table);
        long now = table.Now;
        answer["entries"] = table.Entries.OrderByDescending(e => e.LastUsed).Take(MaxEntries).Select(e => new Dictionary<string, object?>
        {
            ["key"] = e.Key,
            ["requests"] = e.Requests,
            ["request_rate"] = Math.Round(e.RequestRate, 2),
            ["errors"] = e.Errors,
            ["error_rate"] = Math.Round(e.ErrorRate, 2),
            ["connections"] = e.Connections,
            ["server"] = e.Server,
            ["idle_ms"] = Math.Max(0, now - e.LastUsed),
        }).ToList();
        return RuntimeApi.Json(200, answer);
    }

    private static Dictionary<string, object?> Describe(StickTable table)
    {
        var description = new Dictionary<string, object?>
        {
            ["name"] = table.Name,
            ["key"] = table.KeySpec,
            ["size"] = table.Size,
            ["count"] = table.Count,
            ["expire"] = Configuration.Units.Format(table.Expire),
            ["rate_period"] = Configuration.Units.Format(table.RatePeriod),
        };
        if (table.Share is { } share)
        {
            description["store"] = share.Store.Name;
            description["store_state"] = share.Store.State.ToString().ToLowerInvariant();
        }

        return description;
    }
}
