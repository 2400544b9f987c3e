using PluginProxy.Abstractions.Tables;
using PluginProxy.Host.Stores;

namespace PluginProxy.Host.Tables;

/// <summary>
/// The stick tables of one configuration version, by name: what its backends, listeners and sessions use; with the
/// store each table shares its entries through in that version (the tables take it when the version is committed).
/// </summary>
internal sealed class StickTableSet : IStickTables
{
    private readonly StickTable[] _tables;
    private readonly SharedStore?[] _stores;

    public StickTableSet(IEnumerable<StickTable> tables)
        : this(tables.Select(t => (t, (SharedStore?)null)))
    {
    }

    /// <param name="tables">Each table with the store its configuration names, or null.</param>
    public StickTableSet(IEnumerable<(StickTable Table, SharedStore? Store)> tables)
    {
        (StickTable Table, SharedStore? Store)[] pairs = tables.ToArray();
        _tables = pairs.Select(p => p.Table).ToArray();
        _stores = pairs.Select(p => p.Store).ToArray();
    }

    /// <summary>A configuration without tables.</summary>
    public static StickTableSet Empty { get; } = new(Array.Empty<StickTable>());

    public IReadOnlyList<IStickTable> All => _tables;

    /// <summary>The tables with their host type.</summary>
    public IReadOnlyList<StickTable> Tables => _tables;

    IStickTable? IStickTables.Find(string name) => Find(name);

    /// <summary>The table named <paramref name="name"/>, or null.</summary>
    public StickTable? Find(string name) => IndexOf(name) is var i and >= 0 ? _tables[i] : null;

    /// <summary>The store the table named <paramref name="name"/> shares through in this version, or null.</summary>
    public SharedStore? StoreOf(string name) => IndexOf(name) is var i and >= 0 ? _stores[i] : null;

    private int IndexOf(string name)
    {
        for (int i = 0; i < _tables.Length; i++)
        {
            if (_tables[i].Name == name)
            {
                return i;
            }
        }

        return -1;
    }
}
