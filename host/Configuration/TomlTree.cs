using PluginProxy.Abstractions.Options;
using Tomlyn.Syntax;

namespace PluginProxy.Host.Configuration;

/// <summary>A TOML node with the place its value starts, so that every binding error can point at it.</summary>
internal abstract class TomlNode
{
    protected TomlNode(SourceSpot spot) => Spot = spot;

    public SourceSpot Spot { get; }

    /// <summary>The TOML type name used in error messages ("a string", "a table", ...).</summary>
    public abstract string Describe();

    /// <summary>The SDK's view of this value (what plugins bind their options from), with every place.</summary>
    public OptionNode ToOption() => this switch
    {
        TomlValueNode v => new OptionValue(Spot.ToOption(), v.Value),
        TomlArrayNode a => new OptionArray(Spot.ToOption(), a.Items.Select(i => i.ToOption()).ToArray()),
        TomlTableNode t => t.ToOption(t.Entries),
        _ => throw new InvalidOperationException($"Unexpected TOML node {GetType().Name}."),
    };
}

internal sealed class TomlValueNode(SourceSpot spot, object value) : TomlNode(spot)
{
    public object Value { get; } = value;

    public override string Describe() => Value switch
    {
        string => "a string",
        long => "an integer",
        double => "a float",
        bool => "a boolean",
        _ => "a date-time",
    };
}

internal sealed class TomlArrayNode(SourceSpot spot) : TomlNode(spot)
{
    public List<TomlNode> Items { get; } = [];

    public override string Describe() => "an array";
}

/// <summary>One key of a table, where it was written, and whether the binder used it (unused keys are errors).</summary>
internal sealed class TomlEntry(string key, SourceSpot keySpot, TomlNode value)
{
    public string Key { get; } = key;
    public SourceSpot KeySpot { get; } = keySpot;
    public TomlNode Value { get; set; } = value;
    public bool Used { get; set; }
}

internal sealed class TomlTableNode(SourceSpot spot) : TomlNode(spot)
{
    // Insertion order matters for listing unknown keys in file order.
    public List<TomlEntry> Entries { get; } = [];

    public TomlEntry? Find(string key)
    {
        foreach (TomlEntry entry in Entries)
        {
            if (entry.Key == key)
            {
                return entry;
            }
        }

        return null;
    }

    public override string Describe() => "a table";

    /// <summary>This table with <paramref name="entries"/> only (for a listener: its own, then inherited ones).</summary>
    public OptionTable ToOption(IEnumerable<TomlEntry> entries) =>
        new(Spot.ToOption(), entries.Select(e => new OptionEntry(e.Key, e.KeySpot.ToOption(), e.Value.ToOption())).ToArray());
}

/// <summary>
/// Builds a positioned tree from Tomlyn's syntax tree. Tomlyn has already validated the document (duplicate keys,
/// redefined tables), so this only has to follow TOML's rules for where headers and dotted keys put their values.
/// </summary>
internal static class TomlTreeBuilder
{
    public static TomlTableNode Build(DocumentSyntax document, string file)
    {
        var root = new TomlTableNode(new SourceSpot(file, 1, 1));
        foreach (KeyValueSyntax kv in document.KeyValues)
        {
            AddKeyValue(root, kv, file);
        }

        foreach (TableSyntaxBase table in document.Tables)
        {
            List<(string Name, SourceSpot Spot)> path = KeyPath(table.Name!, file);
            SourceSpot headerSpot = Spot(table.Name!, file);
            TomlTableNode parent = root;
            for (int i = 0; i < path.Count - 1; i++)
            {
                parent = Descend(parent, path[i].Name, path[i].Spot);
            }

            (string last, SourceSpot lastSpot) = path[^1];
            TomlTableNode target;
            if (table is TableArraySyntax)
            {
                TomlEntry? entry = parent.Find(last);
                if (entry is null)
                {
                    entry = new TomlEntry(last, lastSpot, new TomlArrayNode(headerSpot));
                    parent.Entries.Add(entry);
                }

                target = new TomlTableNode(headerSpot);
                ((TomlArrayNode)entry.Value).Items.Add(target);
            }
            else
            {
                TomlEntry? entry = parent.Find(last);
                if (entry?.Value is TomlTableNode existing)
                {
                    target = existing;
                }
                else
                {
                    target = new TomlTableNode(headerSpot);
                    parent.Entries.Add(new TomlEntry(last, lastSpot, target));
                }
            }

            foreach (KeyValueSyntax kv in table.Items)
            {
                AddKeyValue(target, kv, file);
            }
        }

        return root;
    }

    private static TomlTableNode Descend(TomlTableNode parent, string name, SourceSpot spot)
    {
        TomlEntry? entry = parent.Find(name);
        switch (entry?.Value)
        {
            case TomlTableNode table:
                return table;
            case TomlArrayNode { Items.Count: > 0 } array when array.Items[^1] is TomlTableNode lastTable:
                // [a.b] after [[a]] adds to the last element of the array of tables.
                return lastTable;
            default:
                var created = new TomlTableNode(spot);
                parent.Entries.Add(new TomlEntry(name, spot, created));
                return created;
        }
    }

    private static void AddKeyValue(TomlTableNode table, KeyValueSyntax kv, string file)
    {
        List<(string Name, SourceSpot Spot)> path = KeyPath(kv.Key!, file);
        TomlTableNode target = table;
        for (int i = 0; i < path.Count - 1; i++)
        {
            target = Descend(target, path[i].Name, path[i].Spot);
        }

        target.Entries.Add(new TomlEntry(path[^1].Name, path[^1].Spot, Convert(kv.Value!, file)));
    }

    private static TomlNode Convert(ValueSyntax value, string file)
    {
        SourceSpot spot = Spot(value, file);
        switch (value)
        {
            case StringValueSyntax s:
                return new TomlValueNode(spot, s.Value ?? "");
            case IntegerValueSyntax i:
                return new TomlValueNode(spot, i.Value);
            case FloatValueSyntax f:
                return new TomlValueNode(spot, f.Value);
            case BooleanValueSyntax b:
                return new TomlValueNode(spot, b.Value);
            case DateTimeValueSyntax d:
                return new TomlValueNode(spot, d.Value);
            case ArraySyntax a:
                var array = new TomlArrayNode(spot);
                foreach (ArrayItemSyntax item in a.Items)
                {
                    array.Items.Add(Convert(item.Value!, file));
                }

                return array;
            case InlineTableSyntax t:
                var table = new TomlTableNode(spot);
                foreach (InlineTableItemSyntax item in t.Items)
                {
                    AddKeyValue(table, item.KeyValue!, file);
                }

                return table;
            default:
                throw new InvalidOperationException($"Unexpected TOML value syntax {value.GetType().Name}.");
        }
    }

    private static List<(string, SourceSpot)> KeyPath(KeySyntax key, string file)
    {
        var path = new List<(string, SourceSpot)> { (KeyText(key.Key!), Spot(key.Key!, file)) };
        foreach (DottedKeyItemSyntax dotted in key.DotKeys)
        {
            path.Add((KeyText(dotted.Key!), Spot(dotted.Key!, file)));
        }

        return path;
    }

    private static string KeyText(BareKeyOrStringValueSyntax key) => key switch
    {
        BareKeySyntax bare => bare.Key!.Text ?? "",
        StringValueSyntax quoted => quoted.Value ?? "",
        _ => key.ToString() ?? "",
    };

    private static SourceSpot Spot(SyntaxNode node, string file) =>
        new(file, node.Span.Start.Line + 1, node.Span.Start.Column + 1);
}
