namespace PluginProxy.Abstractions.Tables;

/// <summary>
/// The stick tables of the running configuration (<c>[[stick_table]]</c>), by name. Plugins get it by injection, scripts
/// through <c>Services</c> (and <c>Rule.Table(name)</c>); declarative rules read their counters.
/// </summary>
public interface IStickTables
{
    /// <summary>The table named <paramref name="name"/>, or null when the configuration has none of that name.</summary>
    IStickTable? Find(string name);

    /// <summary>Every table, in configuration order.</summary>
    IReadOnlyList<IStickTable> All { get; }
}
