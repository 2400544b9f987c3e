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
    /// <param name="log">Where the backends log their servers' ejections (passive health checks).</param>
    public BackendCatalog(IEnumerable<BackendConfig> configs, ServerCarryOver? carryOver = null, ILogger? log = null)
    {
        _all = configs.Select(c => new Backend(c, carryOver) { Log = log ?? NullLogger.Instance }).ToList();
        _byName = _all.ToDictionary(b => b.Name, StringComparer.Ordinal);
    }

    public IReadOnlyList<IBackend> All => _all;

    internal IReadOnlyList<Backend> Backends => _all;

    public IBackend? Find(string name) => _byName.GetValueOrDefault(name);
}
