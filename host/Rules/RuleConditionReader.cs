using System.Net;
using System.Text.RegularExpressions;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Rules;

/// <summary>Reads a rule's <c>if</c> or <c>unless</c> table into compiled conditions, each error at its place.</summary>
internal static class RuleConditionReader
{
    /// <summary>The condition keys, in the order they are documented.</summary>
    public static readonly string[] Keys = ["path", "path_prefix", "path_suffix", "path_regex", "host", "method", "header", "src", "table", "status"];

    private static readonly string[] HeaderKeys = ["name", "value", "prefix", "contains"];
    private static readonly string[] CounterKeys = ["name", "counter", .. CounterTest.Comparisons];

    private static readonly Dictionary<string, StickCounter> Counters = new(StringComparer.Ordinal)
    {
        ["http_req_rate"] = StickCounter.HttpReqRate,
        ["http_req_cnt"] = StickCounter.HttpReqCnt,
        ["conn_cur"] = StickCounter.ConnCur,
        ["http_err_rate"] = StickCounter.HttpErrRate,
        ["http_err_cnt"] = StickCounter.HttpErrCnt,
    };

    /// <summary>The conditions of <paramref name="table"/> (the rule's <c>if</c> or <c>unless</c>), in file order.</summary>
    public static RuleTest[] Read(TableReader table, ChannelDirection side)
    {
        var tests = new List<RuleTest>();
        foreach (TomlEntry entry in table.Table.Entries.ToArray())
        {
            if (!Keys.Contains(entry.Key))
            {
                continue; // reported by RejectUnknownKeys below
            }

            if (ReadOne(table, entry, side) is { } test)
            {
                tests.Add(test);
            }
        }

        table.RejectUnknownKeys(Keys);
        return [.. tests];
    }

    private static RuleTest? ReadOne(TableReader table, TomlEntry entry, ChannelDirection side)
    {
        string key = entry.Key;
        switch (key)
        {
            case "path" or "path_prefix" or "path_suffix":
                List<(string Value, SourceSpot Spot)>? paths = Strings(table, key, "a path such as \"/admin\", or a list of them");
                if (paths is null || (key != "path_suffix" && !AllValid(table, key, paths, p => p.StartsWith('/') ? null : $"a path must start with '/', not \"{p}\"")))
                {
                    return null;
                }

                PathMatch match = key == "path" ? PathMatch.Exact : key == "path_prefix" ? PathMatch.Prefix : PathMatch.Suffix;
                return new PathTest(match, paths.Select(p => p.Value).ToArray());
            case "path_regex":
                return PathRegex(table);
            case "host":
                List<(string Value, SourceSpot Spot)>? hosts = Strings(table, key, "a host name such as \"api.example.com\" or \"*.example.com\", or a list of them");
                return hosts is not null && AllValid(table, key, hosts, h => HostPattern.IsValid(h) ? null
                    : $"`host` \"{h}\" is not a host name; write \"api.example.com\", or \"*.example.com\" for any subdomain (no port, no path)")
                    ? new HostTest(hosts.Select(h => h.Value)) : null;
            case "method":
                List<(string Value, SourceSpot Spot)>? methods = Strings(table, key, "a method such as \"GET\", or a list of them");
                return methods is not null && AllValid(table, key, methods, m => m.Length > 0 && m.All(HttpSyntax.IsTokenChar) ? null : $"`method` \"{m}\" is not a method name")
                    ? new MethodTest(methods.Select(m => m.Value)) : null;
            case "src":
                return Source(table);
            case "header":
                return Several(table, key, "a header condition", Header);
            case "table":
                return Several(table, key, "a stick-table counter condition", Counter);
            default:
                if (side == ChannelDirection.Request)
                {
                    entry.Used = true;
                    table.Error(entry.KeySpot, "`status` is a condition of response rules: a request has no status yet; use it in [[listener.http_response]]");
                    return null;
                }

                return Statuses(table);
        }
    }

    private static List<(string Value, SourceSpot Spot)>? Strings(TableReader table, string key, string what)
    {
        List<(string Value, SourceSpot Spot)>? values = table.StringList(key, what: what);
        if (values is { Count: 0 })
        {
            table.Error(table.SpotOf(key), $"`{key}` is an empty list: it would never match; give at least one value");
            return null;
        }

        return values;
    }

    private static bool AllValid(TableReader table, string key, List<(string Value, SourceSpot Spot)> values, Func<string, string?> problem)
    {
        bool valid = true;
        foreach ((string value, SourceSpot spot) in values)
        {
            if (problem(value) is { } message)
            {
                table.Error(spot, message);
                valid = false;
            }
        }

        return valid;
    }

    private static RuleTest? PathRegex(TableReader table)
    {
        (string Value, SourceSpot Spot)? pattern = table.SpottedString("path_regex", what: "a regular expression such as \"^/api/v[0-9]+/\"");
        if (pattern is not { } p)
        {
            return null;
        }

        try
        {
            return new PathRegexTest(new Regex(p.Value, RegexOptions.NonBacktracking | RegexOptions.CultureInvariant));
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException)
        {
            table.Error(p.Spot, $"`path_regex` \"{p.Value}\" is not a regular expression rules can run: {ex.Message}");
            return null;
        }
    }

    private static RuleTest? Source(TableReader table)
    {
        List<(string Value, SourceSpot Spot)>? values = Strings(table, "src", "a network such as \"10.0.0.0/8\", an address, or a list of them");
        if (values is null)
        {
            return null;
        }

        var networks = new List<IPNetwork>();
        foreach ((string text, SourceSpot spot) in values)
        {
            if (Network(text) is { } network)
            {
                networks.Add(network);
            }
            else
            {
                table.Error(spot, $"`src` \"{text}\" is not an address or a network; write \"192.0.2.7\", \"10.0.0.0/8\" or \"2001:db8::/32\" (a network's address has no bits set past its prefix length)");
            }
        }

        return networks.Count == values.Count ? new SourceTest([.. networks]) : null;
    }

    /// <summary>
    /// An address (a network of one) or a CIDR network, strictly: IPv4 in four decimal parts (no legacy short forms such as
    /// <c>10.1</c>), and no bits of the address set past the prefix length (<c>10.0.0.1/8</c> is most likely a mistake).
    /// </summary>
    private static IPNetwork? Network(string text)
    {
        int slash = text.IndexOf('/');
        string addressText = slash < 0 ? text : text[..slash];
        if (!IPAddress.TryParse(addressText, out IPAddress? address)
            || (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && addressText.Split('.') is not { Length: 4 })
            || (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && !addressText.Contains(':')))
        {
            return null;
        }

        int bits = address.GetAddressBytes().Length * 8;
        int prefix = bits;
        if (slash >= 0 && (!int.TryParse(text.AsSpan(slash + 1), System.Globalization.NumberStyles.None, null, out prefix) || prefix > bits))
        {
            return null;
        }

        var network = new IPNetwork(Masked(address, prefix), prefix);
        return network.BaseAddress.Equals(address) ? network : null;
    }

    private static IPAddress Masked(IPAddress address, int prefix)
    {
        byte[] bytes = address.GetAddressBytes();
        for (int i = 0; i < bytes.Length; i++)
        {
            int keep = Math.Clamp(prefix - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - keep));
        }

        return new IPAddress(bytes);
    }

    private static RuleTest? Statuses(TableReader table)
    {
        TomlEntry entry = table.Table.Find("status")!;
        entry.Used = true;
        IEnumerable<TomlNode> items = entry.Value is TomlArrayNode array ? array.Items : [entry.Value];
        var statuses = new List<int>();
        bool valid = true;
        foreach (TomlNode item in items)
        {
            if (item is TomlValueNode { Value: long status } && status is >= 100 and <= 599)
            {
                statuses.Add((int)status);
            }
            else
            {
                table.Error(item.Spot, $"`status` must be a status from 100 to 599 (or a list of them), not {(item is TomlValueNode { Value: long n } ? n.ToString() : item.Describe())}");
                valid = false;
            }
        }

        if (valid && statuses.Count == 0)
        {
            table.Error(entry.Value.Spot, "`status` is an empty list: it would never match; give at least one status");
        }

        return valid && statuses.Count > 0 ? new StatusTest([.. statuses]) : null;
    }

    /// <summary>A table, or an array of tables that must all hold.</summary>
    private static RuleTest? Several(TableReader table, string key, string what, Func<TableReader, RuleTest?> read)
    {
        TomlEntry entry = table.Table.Find(key)!;
        switch (entry.Value)
        {
            case TomlTableNode:
                return table.SubTable(key, $"{what} (`{key}`)") is { } single ? read(single) : null;
            case TomlArrayNode:
                RuleTest?[] tests = table.TableArray(key, $"{what} (`{key}`)").Select(read).ToArray();
                if (tests.Length == 0)
                {
                    table.Error(entry.Value.Spot, $"`{key}` is an empty list: give at least one {what}");
                }

                return tests.Length == 0 || tests.Any(t => t is null) ? null : tests.Length == 1 ? tests[0] : new AllTest(tests!);
            default:
                entry.Used = true;
                table.Error(entry.Value.Spot, $"`{key}` must be a table (or a list of tables), not {entry.Value.Describe()}");
                return null;
        }
    }

    private static RuleTest? Header(TableReader table)
    {
        (string Value, SourceSpot Spot)? name = table.SpottedString("name", required: true, what: "a header name such as \"X-Api-Key\"");
        string[] given = HeaderKeys.Skip(1).Where(table.Has).ToArray();
        string? text = given.Length == 1 ? table.String(given[0], what: "the text to compare the value with") : null;
        foreach (string key in given)
        {
            table.Table.Find(key)!.Used = true;
        }

        table.RejectUnknownKeys(HeaderKeys);
        if (given.Length > 1)
        {
            table.Error(table.SpotOf(given[1]), $"a header condition compares one way: `{given[0]}` or `{given[1]}`, not both");
            return null;
        }

        if (name is not { } n || (given.Length == 1 && text is null))
        {
            return null;
        }

        if (n.Value.Length == 0 || !n.Value.All(HttpSyntax.IsTokenChar))
        {
            table.Error(n.Spot, $"\"{n.Value}\" is not a header name: use letters, digits and !#$%&'*+-.^_`|~");
            return null;
        }

        HeaderMatch match = given.Length == 0 ? HeaderMatch.Present : given[0] switch { "value" => HeaderMatch.Exact, "prefix" => HeaderMatch.Prefix, _ => HeaderMatch.Contains };
        return new HeaderTest(n.Value, match, text ?? "");
    }

    private static RuleTest? Counter(TableReader table)
    {
        string? name = table.String("name", required: true, what: "the name of a [[stick_table]]");
        (string Value, SourceSpot Spot)? counter = table.SpottedString("counter", required: true, what: string.Join(", ", Counters.Keys));
        string[] given = CounterTest.Comparisons.Where(table.Has).ToArray();
        if (given.Length != 1)
        {
            table.Error(given.Length == 0 ? table.Spot : table.SpotOf(given[1]),
                $"a counter condition needs one comparison: one of {string.Join(", ", CounterTest.Comparisons)} (for example gt = 100), not {(given.Length == 0 ? "none" : string.Join(" and ", given))}");
        }

        double? threshold = given.Length == 1 ? Number(table, given[0]) : null;
        foreach (string extra in given.Skip(1))
        {
            table.Table.Find(extra)!.Used = true;
        }

        table.RejectUnknownKeys(CounterKeys);
        StickCounter kind = default;
        if (counter is { } c && !Counters.TryGetValue(c.Value, out kind))
        {
            string? suggestion = TableReader.Suggest(c.Value, Counters.Keys);
            table.Error(c.Spot, $"`counter` \"{c.Value}\" is not a stick-table counter; " + (suggestion is not null ? $"did you mean \"{suggestion}\"?" : $"use {string.Join(", ", Counters.Keys)}"));
            return null;
        }

        return name is not null && counter is not null && threshold is { } t ? new CounterTest(name, kind, given[0], t) : null;
    }

    private static double? Number(TableReader table, string key)
    {
        TomlEntry entry = table.Table.Find(key)!;
        entry.Used = true;
        switch (entry.Value)
        {
            case TomlValueNode { Value: long l }:
                return l;
            case TomlValueNode { Value: double d }:
                return d;
            default:
                table.Error(entry.Value.Spot, $"`{key}` must be a number, not {entry.Value.Describe()}");
                return null;
        }
    }
}
