using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;

namespace PluginProxy.Host.Plugins;

/// <summary>
/// The plugins this process has loaded, by plugin name, each at its current version, and the index of what they provide.
/// </summary>
internal sealed class PluginCatalog : IDisposable
{
    private readonly PluginHostServices _host;
    private readonly ILogger _log;
    private readonly object _gate = new();
    private Dictionary<string, LoadedPlugin> _plugins = new(StringComparer.Ordinal);
    private int _generation;

    public PluginCatalog(PluginHostServices host)
    {
        _host = host;
        _log = host.LoggerFactory.CreateLogger("PluginProxy.Plugins");
    }

    public IReadOnlyCollection<LoadedPlugin> Plugins
    {
        get
        {
            lock (_gate)
            {
                return _plugins.Values.ToList();
            }
        }
    }

    /// <summary>
    /// Loads every plugin folder found in <paramref name="folders"/> (a later folder's plugin replaces an earlier one of the same name).
    /// Every problem is reported; plugins that loaded are kept.
    /// </summary>
    public List<PluginLoadException> LoadFolders(IEnumerable<string> folders)
    {
        var errors = new List<PluginLoadException>();
        var chosen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string folder in folders.Distinct())
        {
            if (!Directory.Exists(folder))
            {
                errors.Add(new PluginLoadException(folder, "the plugins folder does not exist; build the plugins (dotnet build) or fix `plugins` in [global]"));
                continue;
            }

            foreach (string pluginFolder in Directory.EnumerateDirectories(folder).Order(StringComparer.Ordinal))
            {
                chosen[Path.GetFileName(pluginFolder)] = pluginFolder;
            }
        }

        var loaded = new Dictionary<string, LoadedPlugin>(StringComparer.Ordinal);
        foreach ((string name, string pluginFolder) in chosen)
        {
            try
            {
                LoadedPlugin plugin = LoadedPlugin.Load(pluginFolder, Interlocked.Increment(ref _generation), _host);
                loaded[name] = plugin;
                _log.LogInformation("Plugin {Plugin} loaded from {Path} (SDK {Sdk}): supervisors [{Supervisors}], analyzers [{Analyzers}]",
                    name, plugin.AssemblyPath, plugin.SdkVersion?.ToString(2), string.Join(", ", plugin.Supervisors.Keys), string.Join(", ", plugin.Analyzers.Keys));
            }
            catch (PluginLoadException ex)
            {
                errors.Add(ex);
            }
        }

        errors.AddRange(FindConflicts(loaded.Values));
        lock (_gate)
        {
            Dictionary<string, LoadedPlugin> previous = _plugins;
            _plugins = loaded;
            foreach (LoadedPlugin old in previous.Values)
            {
                old.Retire();
            }
        }

        return errors;
    }

    private static IEnumerable<PluginLoadException> FindConflicts(IEnumerable<LoadedPlugin> plugins)
    {
        var supervisors = new Dictionary<string, LoadedPlugin>(StringComparer.Ordinal);
        var analyzers = new Dictionary<string, LoadedPlugin>(StringComparer.Ordinal);
        foreach (LoadedPlugin plugin in plugins)
        {
            foreach (string name in plugin.Supervisors.Keys)
            {
                if (!supervisors.TryAdd(name, plugin))
                {
                    yield return new PluginLoadException(plugin.AssemblyPath, $"provides supervisor \"{name}\", which {supervisors[name].Name} also provides; names must be unique across plugins");
                }
            }

            foreach (string name in plugin.Analyzers.Keys)
            {
                if (!analyzers.TryAdd(name, plugin))
                {
                    yield return new PluginLoadException(plugin.AssemblyPath, $"provides analyzer \"{name}\", which {analyzers[name].Name} also provides; names must be unique across plugins");
                }
            }
        }
    }

    /// <summary>Finds the plugin providing supervisor <paramref name="name"/>, and takes a reference on it.</summary>
    public bool TryAcquireSupervisor(string name, out LoadedPlugin? plugin, out IProtocolSupervisor? supervisor) =>
        TryAcquire(name, static p => p.Supervisors, out plugin, out supervisor);

    /// <summary>Finds the plugin providing analyzer <paramref name="name"/>, and takes a reference on it.</summary>
    public bool TryAcquireAnalyzer(string name, out LoadedPlugin? plugin, out IFlowAnalyzer? analyzer) =>
        TryAcquire(name, static p => p.Analyzers, out plugin, out analyzer);

    private bool TryAcquire<T>(string name, Func<LoadedPlugin, IReadOnlyDictionary<string, T>> provided, out LoadedPlugin? plugin, out T? value)
        where T : class
    {
        lock (_gate)
        {
            foreach (LoadedPlugin candidate in _plugins.Values)
            {
                if (provided(candidate).TryGetValue(name, out value) && candidate.TryAcquire())
                {
                    plugin = candidate;
                    return true;
                }
            }
        }

        plugin = null;
        value = null;
        return false;
    }

    public IReadOnlyList<string> SupervisorNames
    {
        get
        {
            lock (_gate)
            {
                return _plugins.Values.SelectMany(p => p.Supervisors.Keys).Order(StringComparer.Ordinal).ToList();
            }
        }
    }

    public IReadOnlyList<string> AnalyzerNames
    {
        get
        {
            lock (_gate)
            {
                return _plugins.Values.SelectMany(p => p.Analyzers.Keys).Order(StringComparer.Ordinal).ToList();
            }
        }
    }

    /// <summary>Retires every plugin: each unloads once the last session using it ends.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            foreach (LoadedPlugin plugin in _plugins.Values)
            {
                plugin.Retire();
            }

            _plugins = new Dictionary<string, LoadedPlugin>(StringComparer.Ordinal);
        }
    }
}
