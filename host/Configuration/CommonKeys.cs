using PluginProxy.Abstractions;

namespace PluginProxy.Host.Configuration;

/// <summary>Keys read the same way in several tables: timeouts, <c>balance</c>, <c>http_reuse</c>.</summary>
internal static class CommonKeys
{
    internal static HttpReuse? ReadHttpReuse(TableReader table)
    {
        if (table.SpottedString("http_reuse", what: "safe or always") is not { } reuse)
        {
            return null;
        }

        if (ConfigKeys.HttpReuseNames.TryGetValue(reuse.Value, out HttpReuse value))
        {
            return value;
        }

        table.Error(reuse.Spot, $"`http_reuse` \"{reuse.Value}\" is unknown; use safe (only requests that can be sent again go on idle connections) or always");
        return null;
    }

    internal static BalanceAlgorithm? ReadBalance(TableReader table)
    {
        if (table.SpottedString("balance", what: "one of roundrobin, leastconn, source, uri, random, hash") is not { } balance)
        {
            return null;
        }

        if (ConfigKeys.BalanceNames.TryGetValue(balance.Value, out BalanceAlgorithm algorithm))
        {
            return algorithm;
        }

        table.Error(balance.Spot, $"`balance` \"{balance.Value}\" is unknown; use one of {string.Join(", ", ConfigKeys.BalanceNames.Keys)}");
        return null;
    }

    internal static ProxyTimeouts ReadTimeouts(TableReader table, ProxyTimeouts inherited, string[] keys)
    {
        ProxyTimeouts result = inherited;
        foreach (string key in keys)
        {
            if (table.Duration(key) is not { } value)
            {
                continue;
            }

            result = key switch
            {
                "timeout_connect" => result with { Connect = value },
                "timeout_client" => result with { Client = value },
                "timeout_server" => result with { Server = value },
                "timeout_tunnel" => result with { Tunnel = value },
                "timeout_queue" => result with { Queue = value },
                "timeout_request" => result with { Request = value },
                "timeout_keep_alive" => result with { KeepAlive = value },
                "timeout_client_hs" => result with { ClientHandshake = value },
                _ => result,
            };
        }

        return result;
    }

    /// <summary>Reports a timeout written on the wrong side (a server timeout in a listener), which would otherwise be ignored.</summary>
    internal static void RejectMisplacedTimeouts(TableReader table, string[] wrongSide, string rightPlace)
    {
        foreach (string key in wrongSide)
        {
            if (table.Table.Find(key) is { } entry)
            {
                entry.Used = true;
                table.Error(entry.KeySpot, $"`{key}` does not apply to {table.DisplayName}; set it in {rightPlace} or in [defaults]");
            }
        }
    }
}
