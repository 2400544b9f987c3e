namespace PluginProxy.Abstractions.Options;

/// <summary>A place in a configuration file, 1-based, printed as <c>file:line:column</c> like the host's own errors.</summary>
public readonly record struct OptionSpot(string File, int Line, int Column)
{
    /// <inheritdoc/>
    public override string ToString() => $"{File}:{Line}:{Column}";
}

/// <summary>A configuration value as written, with where it starts: what a plugin binds its options from.</summary>
public abstract class OptionNode
{
    private protected OptionNode(OptionSpot spot) => Spot = spot;

    /// <summary>Where the value starts.</summary>
    public OptionSpot Spot { get; }

    /// <summary>The TOML type name used in messages ("a string", "a table", ...).</summary>
    public abstract string Describe();
}

/// <summary>A string (<see cref="string"/>), integer (<see cref="long"/>), float (<see cref="double"/>), boolean or date-time.</summary>
public sealed class OptionValue(OptionSpot spot, object value) : OptionNode(spot)
{
    /// <summary>The value: <see cref="string"/>, <see cref="long"/>, <see cref="double"/>, <see cref="bool"/> or a TOML date-time.</summary>
    public object Value { get; } = value;

    /// <inheritdoc/>
    public override string Describe() => Value switch
    {
        string => "a string",
        long => "an integer",
        double => "a float",
        bool => "a boolean",
        _ => "a date-time",
    };
}

/// <summary>An array (of values or of tables: <c>[[listener.route]]</c> is an array of tables).</summary>
public sealed class OptionArray(OptionSpot spot, IReadOnlyList<OptionNode> items) : OptionNode(spot)
{
    /// <summary>The items, in file order.</summary>
    public IReadOnlyList<OptionNode> Items { get; } = items;

    /// <inheritdoc/>
    public override string Describe() => "an array";
}

/// <summary>One key of a table, where the key is written, and its value.</summary>
public sealed record OptionEntry(string Key, OptionSpot KeySpot, OptionNode Value);

/// <summary>A table, with its keys in file order.</summary>
public sealed class OptionTable(OptionSpot spot, IReadOnlyList<OptionEntry> entries) : OptionNode(spot)
{
    /// <summary>A table with no key (what an absent table reads as).</summary>
    public static OptionTable Empty { get; } = new(new OptionSpot("", 1, 1), []);

    /// <summary>The keys, in file order.</summary>
    public IReadOnlyList<OptionEntry> Entries { get; } = entries;

    /// <summary>The entry of <paramref name="key"/>, or null.</summary>
    public OptionEntry? Find(string key)
    {
        foreach (OptionEntry entry in Entries)
        {
            if (entry.Key == key)
            {
                return entry;
            }
        }

        return null;
    }

    /// <inheritdoc/>
    public override string Describe() => "a table";

    /// <summary>
    /// A table made in code (tests, tools) from plain values: nested dictionaries become tables, lists arrays, the rest
    /// values. Every node is placed at <paramref name="file"/>:1:1, so errors name that file.
    /// </summary>
    public static OptionTable From(IEnumerable<KeyValuePair<string, object?>> values, string file = "(code)")
    {
        var spot = new OptionSpot(file, 1, 1);
        return new OptionTable(spot, values.Select(v => new OptionEntry(v.Key, spot, Node(v.Value, file))).ToList());
    }

    private static OptionNode Node(object? value, string file) => value switch
    {
        IEnumerable<KeyValuePair<string, object?>> table => From(table, file),
        string or null => new OptionValue(new OptionSpot(file, 1, 1), value ?? ""),
        System.Collections.IEnumerable list => new OptionArray(new OptionSpot(file, 1, 1), list.Cast<object?>().Select(item => Node(item, file)).ToList()),
        _ => new OptionValue(new OptionSpot(file, 1, 1), value),
    };
}
