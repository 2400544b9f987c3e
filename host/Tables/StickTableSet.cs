using PluginProxy.Abstractions.Tables;

namespace PluginProxy.Host.Tables;

/// <summary>The stick tables of one configuration version, by name: what its backends, listeners and sessions use.</summary>
internal sealed class StickTableSet : IStickTables
{
    private readonly StickTable[] _tables;

    public StickTableSet(IEnumerable<StickTable> tables) => _tables = tables.ToArray();

    /// <summary>A configuration without tables.</summary>
    public static StickTableSet Empty { get; } = new([]);

    public IReadOnlyList<IStickTable> All => _tables;

    /// <summary>The tables with their host type.</summary>
    public IReadOnlyList<StickTable> Tables => _tables;

    IStickTable? IStickTables.Find(string name) => Find(name);

    /// <summary>The table named <paramref name="name"/>, or null.</summary>
    public StickTable? Find(string name)
    {
        foreach (StickTable table in _tables)
        {
            if (table.Name == name)
            {
                return table;
            }
        }

        return null;
    }
}
