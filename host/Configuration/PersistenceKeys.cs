using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;

namespace PluginProxy.Host.Configuration;

/// <summary>
/// The keys of consistent hashing and persistence: <c>hash_key</c> (a backend's or [defaults]'), a backend's
/// <c>cookie</c> and <c>stick_table</c>, a listener's <c>track</c>, and the top-level <c>[[stick_table]]</c> tables.
/// </summary>
internal static class PersistenceKeys
{
    /// <summary>The keys of a <c>[[stick_table]]</c> table.</summary>
    public static readonly string[] StickTable = ["name", "key", "size", "expire", "rate_period", "store"];

    /// <summary><c>hash_key</c>: <c>source</c>, <c>uri</c>, <c>header:&lt;name&gt;</c>, <c>cookie:&lt;name&gt;</c> or <c>script</c>; null when absent or wrong.</summary>
    internal static (HashKeySource Source, string? Name)? ReadHashKey(TableReader table)
    {
        const string What = "\"source\", \"uri\", \"header:<name>\", \"cookie:<name>\" or \"script\"";
        if (table.SpottedString("hash_key", what: What) is not { } key)
        {
            return null;
        }

        switch (key.Value)
        {
            case "source": return (HashKeySource.Source, null);
            case "uri": return (HashKeySource.Uri, null);
            case "script": return (HashKeySource.Script, null);
        }

        if (ReadNamedKey(table, "hash_key", key.Value, key.Spot, What) is { } named)
        {
            return named.Kind == "header" ? (HashKeySource.Header, named.Name) : (HashKeySource.Cookie, named.Name);
        }

        return null;
    }

    /// <summary>A backend's <c>cookie</c>: the name of the persistence cookie to insert, or null.</summary>
    internal static string? ReadCookie(TableReader table)
    {
        if (table.SpottedString("cookie", what: "a cookie name such as \"SRV\"") is not { } cookie)
        {
            return null;
        }

        if (cookie.Value.Length == 0 || !cookie.Value.All(HttpSyntax.IsTokenChar))
        {
            table.Error(cookie.Spot, $"`cookie` \"{cookie.Value}\" is not a cookie name: use letters, digits and !#$%&'*+-.^_`|~, such as \"SRV\"");
            return null;
        }

        return cookie.Value;
    }

    /// <summary>A name that must be a <c>[[stick_table]]</c> (checked once every table is read).</summary>
    internal static Named? ReadTableName(TableReader table, string key) =>
        table.SpottedString(key, what: "the name of a [[stick_table]]") is { } name ? new Named(name.Value, name.Spot) : null;

    /// <summary>One <c>[[stick_table]]</c>: <c>name</c>, <c>key</c>, <c>size</c>, <c>expire</c>, <c>rate_period</c>.</summary>
    internal static StickTableConfig? BindTable(TableReader table)
    {
        string? name = table.String("name", required: true, what: "a name such as \"clients\"");
        table.DisplayName = name is null ? "[[stick_table]]" : $"stick_table \"{name}\"";
        const string What = "\"source\", \"header:<name>\" or \"cookie:<name>\"";
        (string Value, SourceSpot Spot)? key = table.SpottedString("key", required: true, what: What);
        string? spec = null;
        if (key is { } k)
        {
            spec = k.Value == "source" ? "source"
                : ReadNamedKey(table, "key", k.Value, k.Spot, What) is { } named ? $"{named.Kind}:{named.Name}" : null;
        }

        int size = (int)(table.Integer("size", 1, 100_000_000) ?? 100_000);
        TimeSpan expire = table.Duration("expire", TimeSpan.FromSeconds(1)) ?? TimeSpan.FromMinutes(10);
        TimeSpan ratePeriod = table.Duration("rate_period", TimeSpan.FromMilliseconds(100)) ?? TimeSpan.FromSeconds(10);
        Named? store = table.SpottedString("store", what: "the name of a [[store]]") is { } s ? new Named(s.Value, s.Spot) : null;
        table.RejectUnknownKeys(StickTable);
        if (name is null || spec is null)
        {
            return null;
        }

        return new StickTableConfig(name, spec, size, expire, ratePeriod, table.SpotOf("name")) { Store = store };
    }

    /// <summary>
    /// Checks that every <c>track</c> and <c>stick_table</c> names a <c>[[stick_table]]</c>, and that table names are
    /// unique (the duplicates are dropped from <paramref name="tables"/>); and that a table's <c>store</c> is a <c>[[store]]</c>.
    /// </summary>
    internal static void CheckReferences(TableReader root, List<StickTableConfig> tables, IEnumerable<ListenerConfig> listeners, IEnumerable<BackendConfig> backends,
        IReadOnlyList<Stores.StoreConfig> stores)
    {
        string[] storeNames = stores.Select(s => s.Name).ToArray();
        foreach (StickTableConfig table in tables)
        {
            if (table.Store is { } store && StoreKeys.Unknown($"stick_table \"{table.Name}\"", "store", store.Name, storeNames) is { } problem)
            {
                root.Error(store.Spot, problem);
            }
        }

        HashSet<string> seen = TableReader.DropDuplicates(root, tables, t => t.Name, t => t.Spot, "stick_table");

        IEnumerable<(string Owner, string Key, Named Reference)> references = listeners
            .SelectMany(l => l.Track.Select(t => ($"listener \"{l.Name}\"", "track", t)))
            .Concat(backends.Where(b => b.StickTable is not null).Select(b => ($"backend \"{b.Name}\"", "stick_table", b.StickTable!.Value)));
        foreach ((string owner, string key, Named reference) in references)
        {
            if (seen.Contains(reference.Name))
            {
                continue;
            }

            string hint = TableReader.UndefinedHint(reference.Name, seen, "stick tables",
                "no [[stick_table]] is defined; add one, for example: [[stick_table]] name = \"clients\" key = \"source\"");
            root.Error(reference.Spot, $"{owner} `{key}` names stick table \"{reference.Name}\", which is not defined; {hint}");
        }
    }

    /// <summary><c>header:&lt;name&gt;</c> or <c>cookie:&lt;name&gt;</c>, with a name that is a token; null (and an error) otherwise.</summary>
    private static (string Kind, string Name)? ReadNamedKey(TableReader table, string key, string value, SourceSpot spot, string what)
    {
        int colon = value.IndexOf(':');
        string kind = colon < 0 ? value : value[..colon];
        if (colon < 0 || kind is not ("header" or "cookie"))
        {
            table.Error(spot, $"`{key}` \"{value}\" is unknown; use {what}");
            return null;
        }

        string name = value[(colon + 1)..];
        if (name.Length == 0 || !name.All(HttpSyntax.IsTokenChar))
        {
            table.Error(spot, $"`{key}` \"{value}\" needs a {kind} name after \"{kind}:\" (letters, digits and !#$%&'*+-.^_`|~), such as \"{kind}:{(kind == "header" ? "X-User" : "session")}\"");
            return null;
        }

        return (kind, name);
    }
}
