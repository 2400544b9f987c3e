using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PluginProxy.Abstractions;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Backends;

/// <summary>The backends of one configuration version, by name.</summary>
internal sealed class BackendCatalog : IBackendCatalog
{
    private readonly Dictionary<string, Backend> _byName;
    private readonly List<Backend> _all;

    /// <param name="carryOver">During a reload, the running servers the new backends may keep.</param>
    /// <param name="tables">The stick tables of the same configuration (<c>stick_table</c> names one), or null for none.</param>
    /// <param name="log">Where the backends log their servers' ejections (passive health checks).</param>
    public BackendCatalog(IEnumerable<BackendConfig> configs, ServerCarryOver? carryOver = null, Tables.StickTableSet? tables = null, ILogger? log = null)
    {
        Tables = tables ?? Host.Tables.StickTableSet.Empty;
        _all = configs.Select(c => new Backend(c, carryOver)
        {
            Log = log ?? NullLogger.Instance,
            StickTable = c.StickTable is { } t ? Tables.Find(t.Name) : null,
        }).ToList();
        _byName = _all.ToDictionary(b => b.Name, StringComparer.Ordinal);
    }

    public IReadOnlyList<IBackend> All => _all;

    /// <summary>The stick tables of this configuration version.</summary>
    public Tables.StickTableSet Tables { get; }

    internal IReadOnlyList<Backend> Backends => _all;

    public IBackend? Find(string name) => _byName.GetValueOrDefault(name);
}
