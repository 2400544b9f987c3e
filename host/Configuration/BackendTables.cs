using System.Net;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;
using Tomlyn.Syntax;

namespace PluginProxy.Host.Configuration;

/// <summary>Reads one [[backend]] table: balancing, servers (with TLS), health check.</summary>
internal static class BackendTables
{
    internal static BackendConfig? Bind(TableReader table, ConfigDefaults defaults, string baseDirectory)
    {
        string? name = table.String("name", required: true, what: "a name such as \"app\"");
        table.DisplayName = name is null ? "[[backend]]" : $"backend \"{name}\"";
        BalanceAlgorithm balance = CommonKeys.ReadBalance(table) ?? defaults.Balance;
        int retries = (int)(table.Integer("retries", 0, 100) ?? defaults.Retries);
        HttpReuse reuse = CommonKeys.ReadHttpReuse(table) ?? defaults.HttpReuse;
        ProxyTimeouts timeouts = CommonKeys.ReadTimeouts(table, defaults.Timeouts, ConfigKeys.BackendTimeouts);
        TimeSpan resolveInterval = DnsKeys.ReadInterval(table) ?? defaults.ResolveInterval;
        (HashKeySource Source, string? Name)? hashKey = PersistenceKeys.ReadHashKey(table);
        if (hashKey is not null && balance != BalanceAlgorithm.Hash)
        {
            table.Error(table.SpotOf("hash_key"), $"`hash_key` applies to balance = \"hash\"; {table.DisplayName} balances otherwise");
        }

        string? cookie = PersistenceKeys.ReadCookie(table);
        Named? stickTable = PersistenceKeys.ReadTableName(table, "stick_table");

        bool hasServers = table.Has("servers");
        var servers = new List<ServerConfig>();
        foreach (TableReader serverTable in table.TableArray("servers", $"a server of {table.DisplayName}"))
        {
            if (BindServer(serverTable, baseDirectory) is { } server)
            {
                if (servers.Find(s => s.Name == server.Name) is { } first)
                {
                    serverTable.Error(serverTable.SpotOf("name"), $"server \"{server.Name}\" is already defined in {table.DisplayName} at {first.Spot}");
                }
                else
                {
                    servers.Add(server);
                }
            }
        }

        if (!hasServers)
        {
            table.Error(table.Spot, $"{table.DisplayName} needs `servers`, for example: servers = [{{ name = \"a\", address = \"127.0.0.1:9001\" }}]");
        }
        else if (servers.Count == 0 && table.Table.Find("servers")?.Value is TomlArrayNode { Items.Count: 0 })
        {
            table.Error(table.SpotOf("servers"), $"{table.DisplayName} has no server; add at least one {{ name = \"a\", address = \"127.0.0.1:9001\" }}");
        }

        HealthCheckConfig? check = table.SubTable("check", $"the check of {table.DisplayName}") is { } checkTable ? BindCheck(checkTable) : null;
        RetryPolicy retryPolicy = RetryKeys.ReadPolicy(table);
        PassiveHealthConfig? passive = RetryKeys.ReadPassive(table);
        CommonKeys.RejectMisplacedTimeouts(table, ConfigKeys.ListenerTimeouts, "the listener");
        table.RejectUnknownKeys(ConfigKeys.Backend);
        if (name is null)
        {
            return null;
        }

        return new BackendConfig
        {
            Name = name,
            Spot = table.SpotOf("name"),
            Balance = balance,
            Servers = servers,
            Check = check,
            Timeouts = timeouts,
            Retries = retries,
            HttpReuse = reuse,
            ResolveInterval = resolveInterval,
            RetryPolicy = retryPolicy,
            Passive = passive,
            HashKeySource = (hashKey ?? defaults.HashKey).Source,
            HashKeyName = (hashKey ?? defaults.HashKey).Name,
            Cookie = cookie,
            StickTable = stickTable,
            ValueSpots = table.ValueSpots(),
        };
    }

    /// <summary>The largest <c>maxconn</c> of a server.</summary>
    private const int MaxServerConn = 1_000_000;

    private static ServerConfig? BindServer(TableReader table, string baseDirectory)
    {
        SourceSpot spot = table.Spot;
        string? name = table.String("name", required: true, what: "a name such as \"a\"");
        (string Value, SourceSpot Spot)? address = table.SpottedString("address", required: true, what: "an address such as \"127.0.0.1:9001\"");
        int weight = (int)(table.Integer("weight", 1, 256) ?? 1);
        int maxConn = (int)(table.Integer("maxconn", 0, MaxServerConn) ?? 0);
        bool backup = table.Bool("backup") ?? false;
        TimeSpan slowStart = table.Duration("slowstart", TimeSpan.Zero) ?? TimeSpan.Zero;
        bool tls = table.Bool("tls") ?? false;
        (string Value, SourceSpot Spot)? sni = table.SpottedString("sni", what: "the server name to ask for and to expect in its certificate");
        (string Value, SourceSpot Spot)? verify = table.SpottedString("verify", what: "\"system\", \"none\", or a CA file such as \"certs/ca.pem\"");
        foreach ((string key, SourceSpot where) in new[] { ("sni", sni?.Spot), ("verify", verify?.Spot) }.Where(k => k.Item2 is not null && !tls).Select(k => (k.Item1, k.Item2!.Value)))
        {
            table.Error(where, $"server `{key}` only applies to TLS: add tls = true");
        }

        if (sni is { } s && (s.Value.Length == 0 || s.Value.Any(c => c is ':' or '/' or ' ')))
        {
            table.Error(s.Spot, $"server `sni` \"{s.Value}\" is not a host name");
        }

        ServerProtocol protocol = ReadProtocol(table);
        string verifyMode = verify?.Value ?? "system";
        if (tls && verify is { } v && v.Value is not ("system" or "none"))
        {
            verifyMode = Path.GetFullPath(v.Value, baseDirectory);
        }

        bool addressRead = DnsKeys.ReadAddress(table, name, address, out IPEndPoint? endPoint, out ServerHostName? hostName);
        table.RejectUnknownKeys(ConfigKeys.Server);
        if (name is null || address is null || !addressRead)
        {
            return null;
        }

        string host = hostName is not null ? DnsKeys.DefaultSni(hostName)
            : address.Value.Value.StartsWith('[') ? address.Value.Value[1..address.Value.Value.IndexOf(']')] : address.Value.Value[..address.Value.Value.LastIndexOf(':')];
        return new ServerConfig
        {
            Name = name,
            Address = address.Value.Value,
            EndPoint = endPoint,
            HostName = hostName,
            Weight = weight,
            MaxConn = maxConn,
            Backup = backup,
            SlowStart = slowStart,
            Protocol = protocol,
            Spot = spot,
            TlsFiles = tls ? new ServerTlsFiles(sni?.Value ?? host, verifyMode, verify?.Spot) : null,
        };
    }

    /// <summary>A server's <c>proto</c>: <c>h1</c> (the default) or <c>h2</c>.</summary>
    private static ServerProtocol ReadProtocol(TableReader table)
    {
        if (table.SpottedString("proto", what: "\"h1\" or \"h2\"") is not { } proto)
        {
            return ServerProtocol.Http1;
        }

        switch (proto.Value)
        {
            case "h1": return ServerProtocol.Http1;
            case "h2": return ServerProtocol.Http2;
            default:
                table.Error(proto.Spot, $"server `proto` \"{proto.Value}\" is unknown; use \"h1\" (HTTP/1.1) or \"h2\" (HTTP/2)");
                return ServerProtocol.Http1;
        }
    }

    private static HealthCheckConfig BindCheck(TableReader table)
    {
        HealthCheckKind kind = HealthCheckKind.Tcp;
        if (table.SpottedString("kind", what: "\"tcp\" or \"http\"") is { } kindText)
        {
            switch (kindText.Value)
            {
                case "tcp": kind = HealthCheckKind.Tcp; break;
                case "http": kind = HealthCheckKind.Http; break;
                default: table.Error(kindText.Spot, $"check `kind` \"{kindText.Value}\" is unknown; use \"tcp\" or \"http\""); break;
            }
        }

        (string Value, SourceSpot Spot)? path = table.SpottedString("path", what: "a path such as \"/health\"");
        if (path is { } p && !p.Value.StartsWith('/'))
        {
            table.Error(p.Spot, $"check `path` must start with '/', not \"{p.Value}\"");
        }
        else if (path is { } sent && (!sent.Value.All(HttpSyntax.IsTargetChar) || sent.Value.Contains('#')))
        {
            // It goes on the request line as written: a space or a control character would break it.
            table.Error(sent.Spot, $"check `path` \"{sent.Value}\" must be visible ASCII without spaces or '#' (percent-encode them)");
        }

        if (path is not null && kind != HealthCheckKind.Http)
        {
            table.Error(path.Value.Spot, "check `path` needs kind = \"http\"");
        }

        var check = new HealthCheckConfig
        {
            Kind = kind,
            Path = path?.Value ?? "/",
            Host = BindCheckHost(table),
            Interval = table.Duration("interval", TimeSpan.FromMilliseconds(10)) ?? TimeSpan.FromSeconds(2),
            Timeout = table.Duration("timeout", TimeSpan.FromMilliseconds(10)) ?? TimeSpan.FromSeconds(2),
            Rise = (int)(table.Integer("rise", 1, 100) ?? 2),
            Fall = (int)(table.Integer("fall", 1, 100) ?? 3),
        };
        table.RejectUnknownKeys(ConfigKeys.Check);
        return check;
    }

    /// <summary>The check's <c>host</c>: a name or an address, with an optional port (what a Host field may hold).</summary>
    private static string? BindCheckHost(TableReader table)
    {
        if (table.SpottedString("host", what: "a Host header value") is not { } host)
        {
            return null;
        }

        if (host.Value.Length == 0 || !host.Value.All(c => char.IsAsciiLetterOrDigit(c) || "-._~!$&'()*+,;=%:[]".Contains(c)))
        {
            table.Error(host.Spot, $"check `host` \"{host.Value}\" is not a valid Host: a name or an address, with an optional port");
        }

        return host.Value;
    }
}
