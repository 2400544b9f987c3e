using PluginProxy.Host.Stores;

namespace PluginProxy.Host.Configuration;

/// <summary>
/// The top-level <c>[[store]]</c> tables (state shared between instances) and the keys that name a store: a stick
/// table's <c>store</c>. Plugins check the names in their own options against <see cref="ProxyConfig.Stores"/>.
/// </summary>
internal static class StoreKeys
{
    /// <summary>The keys of a <c>[[store]]</c> table.</summary>
    public static readonly string[] Store = ["name", "kind", "address", "password_file", "prefix", "sync_interval", "timeout", "on_store_failure"];

    /// <summary>The port of <c>address</c> when it names none: Redis's.</summary>
    public const int DefaultRedisPort = 6379;

    /// <summary>One <c>[[store]]</c>; null (with the errors recorded) when it cannot be used.</summary>
    internal static StoreConfig? Bind(TableReader table, string baseDirectory)
    {
        string? name = table.String("name", required: true, what: "a name such as \"shared\"");
        table.DisplayName = name is null ? "[[store]]" : $"store \"{name}\"";
        (string Value, SourceSpot Spot)? kind = table.SpottedString("kind", required: true, what: "\"redis\"");
        if (kind is { Value: not "redis" } k)
        {
            table.Error(k.Spot, $"`kind` \"{k.Value}\" is unknown; the one kind of store is \"redis\"");
        }

        (string Value, SourceSpot Spot)? written = table.SpottedString("address", required: true, what: "a host:port such as \"127.0.0.1:6379\"");
        string? address = written is { } a ? ReadAddress(table, a.Value, a.Spot) : null;
        string? passwordFile = table.SpottedString("password_file", what: "a file holding the server's password, such as \"redis.password\"") is { } file
            ? Path.GetFullPath(file.Value, baseDirectory)
            : null;
        string prefix = table.String("prefix", what: "a key prefix such as \"pluginproxy:\"") ?? "pluginproxy:";
        TimeSpan sync = table.Duration("sync_interval", TimeSpan.FromMilliseconds(10)) ?? TimeSpan.FromMilliseconds(100);
        if (sync > TimeSpan.FromSeconds(60))
        {
            table.Error(table.SpotOf("sync_interval"), $"`sync_interval` \"{Units.Format(sync)}\" is longer than a minute: shared counts would be that old; use at most \"60s\" (the default is \"100ms\")");
        }

        TimeSpan timeout = table.Duration("timeout", TimeSpan.FromMilliseconds(10)) ?? TimeSpan.FromSeconds(1);
        bool failClosed = false;
        if (table.SpottedString("on_store_failure", what: "\"open\" or \"closed\"") is { } policy)
        {
            failClosed = policy.Value == "closed";
            if (policy.Value is not ("open" or "closed"))
            {
                table.Error(policy.Spot, $"`on_store_failure` \"{policy.Value}\" is unknown; use \"open\" (count per instance while the store is down, the default) or \"closed\" (refuse what a shared limit decides)");
            }
        }

        table.RejectUnknownKeys(Store);
        if (name is null || kind is not { Value: "redis" } || address is null)
        {
            return null;
        }

        return new StoreConfig(name, kind.Value.Value, address, passwordFile, prefix, sync, timeout, failClosed, table.SpotOf("name"))
        {
            PasswordSpot = passwordFile is null ? null : table.SpotOf("password_file"),
        };
    }

    /// <summary><c>host:port</c>, <c>host</c> or <c>[v6]:port</c>, as StackExchange.Redis takes it; null (and an error) when it is not one.</summary>
    private static string? ReadAddress(TableReader table, string value, SourceSpot spot)
    {
        string host = value;
        int port = DefaultRedisPort;
        int colon = value.LastIndexOf(':');
        bool bracketed = value.StartsWith('[');
        if (colon > 0 && (!bracketed || value[colon - 1] == ']') && (bracketed || value.IndexOf(':') == colon))
        {
            host = value[..colon];
            if (!int.TryParse(value[(colon + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
            {
                table.Error(spot, $"`address` \"{value}\": the port must be a number from 1 to 65535, such as \"127.0.0.1:{DefaultRedisPort}\"");
                return null;
            }
        }

        if (!bracketed && host.Contains(':') && host.IndexOf(':') != host.LastIndexOf(':'))
        {
            table.Error(spot, $"`address` \"{value}\": write an IPv6 address in brackets, such as \"[{host}]:{DefaultRedisPort}\"");
            return null;
        }

        // A leading colon (":6379") leaves no host: it is refused here rather than handed on as a host named ":6379".
        if (host.Length == 0 || (host.Contains(':') && !bracketed) || host.Any(char.IsWhiteSpace) || host.Contains('/'))
        {
            table.Error(spot, $"`address` \"{value}\" is not a host:port; write it as \"127.0.0.1:{DefaultRedisPort}\" or \"redis.internal:{DefaultRedisPort}\"");
            return null;
        }

        return $"{host}:{port}";
    }

    /// <summary>Store names must be unique; the duplicates are dropped from <paramref name="stores"/>.</summary>
    internal static void CheckUnique(TableReader root, List<StoreConfig> stores) =>
        TableReader.DropDuplicates(root, stores, s => s.Name, s => s.Spot, "store");

    /// <summary>The error for a key that names a store the configuration does not define, or null when it does.</summary>
    internal static string? Unknown(string owner, string key, string name, IReadOnlyCollection<string> defined)
    {
        if (defined.Contains(name))
        {
            return null;
        }

        string hint = TableReader.UndefinedHint(name, defined, "stores",
            "no [[store]] is defined; add one, for example: [[store]] name = \"shared\" kind = \"redis\" address = \"127.0.0.1:6379\"");
        return $"{owner} `{key}` names store \"{name}\", which is not defined; {hint}";
    }

    /// <summary>Reads the password of <c>password_file</c>; a file that cannot be used is reported at the key.</summary>
    public static StoreConfig WithPassword(StoreConfig store, List<ConfigError> errors)
    {
        if (store.PasswordFile is not { } path)
        {
            return store;
        }

        SourceSpot spot = store.PasswordSpot ?? store.Spot;
        try
        {
            string password = File.ReadAllText(path).Trim();
            if (password.Length == 0 || password.Contains('\n'))
            {
                errors.Add(new ConfigError(spot, $"`password_file`: {path} must hold the password on one line"));
                return store;
            }

            if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & (UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0)
            {
                errors.Add(new ConfigError(spot, $"`password_file`: {path} can be read by other users; make it private with: chmod 600 {path}"));
                return store;
            }

            return store with { Password = password };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            errors.Add(new ConfigError(spot, $"`password_file`: cannot read {path}: {ex.Message}"));
            return store;
        }
    }
}
