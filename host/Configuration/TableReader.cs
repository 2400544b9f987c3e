using System.Net;
using PluginProxy.Abstractions;

namespace PluginProxy.Host.Configuration;

/// <summary>
/// Reads typed values out of one TOML table, recording a positioned error for every wrong type or value,
/// and marking each key it reads so that the keys nobody read can be reported as unknown.
/// </summary>
internal sealed class TableReader
{
    private readonly List<ConfigError> _errors;

    public TableReader(TomlTableNode table, string displayName, List<ConfigError> errors)
    {
        Table = table;
        DisplayName = displayName;
        _errors = errors;
    }

    public TomlTableNode Table { get; }

    /// <summary>How the table is named in messages: <c>[global]</c>, <c>[[listener]] "web"</c>.</summary>
    public string DisplayName { get; set; }

    public SourceSpot Spot => Table.Spot;

    public void Error(SourceSpot where, string message) => _errors.Add(new ConfigError(where, message));

    public bool Has(string key) => Table.Find(key) is not null;

    public SourceSpot SpotOf(string key) => Table.Find(key)?.Value.Spot ?? Table.Spot;

    private TomlNode? Take(string key, bool required, string what)
    {
        TomlEntry? entry = Table.Find(key);
        if (entry is null)
        {
            if (required)
            {
                Error(Table.Spot, $"{DisplayName} needs `{key}` ({what})");
            }

            return null;
        }

        entry.Used = true;
        return entry.Value;
    }

    private void WrongType(string key, TomlNode node, string expected) =>
        Error(node.Spot, $"`{key}` must be {expected}, not {node.Describe()}");

    public string? String(string key, bool required = false, string what = "a string")
    {
        TomlNode? node = Take(key, required, what);
        if (node is null)
        {
            return null;
        }

        if (node is TomlValueNode { Value: string s })
        {
            if (s.Length == 0 && required)
            {
                Error(node.Spot, $"`{key}` must not be empty");
                return null;
            }

            return s;
        }

        WrongType(key, node, what);
        return null;
    }

    public (string Value, SourceSpot Spot)? SpottedString(string key, bool required = false, string what = "a string")
    {
        SourceSpot spot = SpotOf(key);
        string? value = String(key, required, what);
        return value is null ? null : (value, spot);
    }

    public bool? Bool(string key)
    {
        TomlNode? node = Take(key, false, "true or false");
        if (node is null)
        {
            return null;
        }

        if (node is TomlValueNode { Value: bool b })
        {
            return b;
        }

        WrongType(key, node, "true or false");
        return null;
    }

    public long? Integer(string key, long min, long max)
    {
        TomlNode? node = Take(key, false, "an integer");
        if (node is null)
        {
            return null;
        }

        if (node is not TomlValueNode { Value: long value })
        {
            WrongType(key, node, $"an integer from {min} to {max}");
            return null;
        }

        if (value < min || value > max)
        {
            Error(node.Spot, $"`{key}` must be from {min} to {max}, not {value}");
            return null;
        }

        return value;
    }

    /// <summary>A number from 0 to 1 (an integer 0 or 1 is taken too).</summary>
    public double? Ratio(string key)
    {
        TomlNode? node = Take(key, false, "a number from 0 to 1");
        if (node is null)
        {
            return null;
        }

        double? value = node is TomlValueNode { Value: double d } ? d : node is TomlValueNode { Value: long l } ? l : null;
        if (value is null)
        {
            WrongType(key, node, "a number from 0 to 1, such as 0.1");
            return null;
        }

        if (value is < 0 or > 1 || double.IsNaN(value.Value))
        {
            Error(node.Spot, $"`{key}` must be from 0 to 1, not {value.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
            return null;
        }

        return value;
    }

    public TimeSpan? Duration(string key, TimeSpan? min = null)
    {
        TomlNode? node = Take(key, false, "a duration");
        if (node is null)
        {
            return null;
        }

        if (node is not TomlValueNode { Value: string text })
        {
            WrongType(key, node, "a duration string such as \"5s\" or \"250ms\"");
            return null;
        }

        if (!Units.TryParseDuration(text, out TimeSpan duration, out string? problem))
        {
            Error(node.Spot, $"`{key}`: {problem}");
            return null;
        }

        TimeSpan floor = min ?? TimeSpan.FromMilliseconds(1);
        if (duration < floor)
        {
            Error(node.Spot, $"`{key}` must be at least {Units.Format(floor)}, not \"{text}\"");
            return null;
        }

        return duration;
    }

    public long? Size(string key, long min, long max)
    {
        TomlNode? node = Take(key, false, "a size");
        if (node is null)
        {
            return null;
        }

        long bytes;
        switch (node)
        {
            case TomlValueNode { Value: long n }:
                bytes = n;
                break;
            case TomlValueNode { Value: string text }:
                if (!Units.TryParseSize(text, out bytes, out string? problem))
                {
                    Error(node.Spot, $"`{key}`: {problem}");
                    return null;
                }

                break;
            default:
                WrongType(key, node, "a size (an integer of bytes, or a string such as \"16k\")");
                return null;
        }

        if (bytes < min || bytes > max)
        {
            Error(node.Spot, $"`{key}` must be from {min} to {max} bytes, not {bytes}");
            return null;
        }

        return bytes;
    }

    /// <summary>A list of strings; a single string is accepted as a list of one.</summary>
    public List<(string Value, SourceSpot Spot)>? StringList(string key, bool required = false, string what = "a list of strings")
    {
        TomlNode? node = Take(key, required, what);
        switch (node)
        {
            case null:
                return null;
            case TomlValueNode { Value: string single }:
                return [(single, node.Spot)];
            case TomlArrayNode array:
                var result = new List<(string, SourceSpot)>(array.Items.Count);
                foreach (TomlNode item in array.Items)
                {
                    if (item is TomlValueNode { Value: string s })
                    {
                        result.Add((s, item.Spot));
                    }
                    else
                    {
                        Error(item.Spot, $"`{key}` must hold strings, not {item.Describe()}");
                    }
                }

                return result;
            default:
                WrongType(key, node, what);
                return null;
        }
    }

    public TableReader? SubTable(string key, string displayName)
    {
        TomlNode? node = Take(key, false, "a table");
        if (node is null)
        {
            return null;
        }

        if (node is TomlTableNode table)
        {
            return new TableReader(table, displayName, _errors);
        }

        WrongType(key, node, "a table");
        return null;
    }

    /// <summary>An array of tables: <c>[[key]]</c> sections or an inline array of inline tables.</summary>
    public List<TableReader> TableArray(string key, string displayName)
    {
        TomlNode? node = Take(key, false, "an array of tables");
        var result = new List<TableReader>();
        switch (node)
        {
            case null:
                break;
            case TomlArrayNode array:
                foreach (TomlNode item in array.Items)
                {
                    if (item is TomlTableNode table)
                    {
                        result.Add(new TableReader(table, displayName, _errors));
                    }
                    else
                    {
                        Error(item.Spot, $"`{key}` must hold tables such as {{ name = \"a\", ... }}, not {item.Describe()}");
                    }
                }

                break;
            default:
                WrongType(key, node, $"an array of tables ([[{key}]])");
                break;
        }

        return result;
    }

    /// <summary>Where each value of this table is written, by dotted key path (nested tables included).</summary>
    public Dictionary<string, SourceSpot> ValueSpots()
    {
        var spots = new Dictionary<string, SourceSpot>(StringComparer.Ordinal);
        Collect(Table, "");
        return spots;

        void Collect(TomlTableNode table, string prefix)
        {
            foreach (TomlEntry entry in table.Entries)
            {
                spots[prefix + entry.Key] = entry.Value.Spot;
                if (entry.Value is TomlTableNode inner)
                {
                    Collect(inner, prefix + entry.Key + ".");
                }
            }
        }
    }

    /// <summary>Every key not read so far, as raw values (for plugin-defined options).</summary>
    public Dictionary<string, object?> TakeRest(Func<string, bool> accept)
    {
        var rest = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (TomlEntry entry in Table.Entries)
        {
            if (!entry.Used && accept(entry.Key))
            {
                entry.Used = true;
                rest[entry.Key] = ToPlain(entry.Value);
            }
        }

        return rest;
    }

    private static object? ToPlain(TomlNode node) => node switch
    {
        TomlValueNode v => v.Value,
        TomlArrayNode a => a.Items.Select(ToPlain).ToList(),
        TomlTableNode t => t.Entries.ToDictionary(e => e.Key, e => ToPlain(e.Value)),
        _ => null,
    };

    /// <summary>Reports every key of this table that no one read, suggesting the closest known key.</summary>
    public void RejectUnknownKeys(IReadOnlyCollection<string> knownKeys)
    {
        foreach (TomlEntry entry in Table.Entries)
        {
            if (entry.Used)
            {
                continue;
            }

            string? suggestion = Suggest(entry.Key, knownKeys);
            string hint = suggestion is not null
                ? $"did you mean `{suggestion}`?"
                : $"known keys are: {string.Join(", ", knownKeys)}";
            Error(entry.KeySpot, $"unknown key `{entry.Key}` in {DisplayName}; {hint}");
        }
    }

    internal static string? Suggest(string key, IEnumerable<string> candidates) => Abstractions.Options.ConfigUnits.Closest(key, candidates);

    /// <summary>
    /// What to say of a reference to <paramref name="name"/>, which <paramref name="defined"/> lacks: <paramref name="none"/>
    /// when nothing is defined, else the closest defined name, else the list of them (<paramref name="plural"/>: "stores").
    /// </summary>
    internal static string UndefinedHint(string name, IReadOnlyCollection<string> defined, string plural, string none)
    {
        string? suggestion = Suggest(name, defined);
        return defined.Count == 0 ? none
            : suggestion is not null ? $"did you mean \"{suggestion}\"?"
            : $"defined {plural}: {string.Join(", ", defined.Select(n => $"\"{n}\""))}";
    }

    /// <summary>
    /// Drops from <paramref name="items"/> those named as an earlier one (<paramref name="kind"/>: "store"), each reported
    /// at its own place with the place of the first; returns the names kept.
    /// </summary>
    internal static HashSet<string> DropDuplicates<T>(TableReader root, List<T> items, Func<T, string> name, Func<T, SourceSpot> spot, string kind)
    {
        var seen = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (T item in items.ToList())
        {
            if (seen.TryGetValue(name(item), out T? first))
            {
                root.Error(spot(item), $"{kind} \"{name(item)}\" is already defined at {spot(first)}; {kind.Replace('_', ' ')} names must be unique");
                items.Remove(item);
            }
            else
            {
                seen[name(item)] = item;
            }
        }

        return seen.Keys.ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The entries of this table no one read so far (plugin-owned keys, or mistakes: see <see cref="RejectUnknownKeys"/>).</summary>
    public List<TomlEntry> Unread() => Table.Entries.Where(e => !e.Used).ToList();
}
