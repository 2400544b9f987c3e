using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Host.Watching;

namespace PluginProxy.Host.Plugins;

/// <summary>
/// The plugins this process has loaded, by plugin name, each at its current version, and the index of what they provide.
/// With hot reload, the plugin folders are watched: a folder copied or moved in is loaded, a changed one is loaded again
/// beside the old version and swapped in once it loaded and built cleanly (a broken build is refused and the old version
/// keeps serving), and a removed one is retired. Retired versions unload when the last session using them ends.
/// </summary>
internal sealed class PluginCatalog : IAsyncDisposable
{
    /// <summary>A build or a copy writes many files: the folders must be quiet this long before they are looked at.</summary>
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);

    private readonly PluginHostServices _host;
    private readonly ILogger _log;
    private readonly object _gate = new();
    private Dictionary<string, LoadedPlugin> _plugins = new(StringComparer.Ordinal);

    // What each plugin was loaded from, and what the last attempt saw there (so a broken build is not retried until it changes).
    private readonly Dictionary<string, (string Folder, string Fingerprint)> _sources = new(StringComparer.Ordinal);
    private List<string> _roots = [];
    private IReadOnlyDictionary<string, IReadOnlySet<string>> _only = new Dictionary<string, IReadOnlySet<string>>();
    private FileWatch? _watch;
    private int _generation;

    public PluginCatalog(PluginHostServices host)
    {
        _host = host;
        _log = host.LoggerFactory.CreateLogger("PluginProxy.Plugins");
    }

    /// <summary>The host services plugins are built with (also what the host's own analyzers, declarative rules, use).</summary>
    public PluginHostServices HostServices => _host;

    /// <summary>The plugins loaded resident (never unloaded: <c>resident_plugins</c>), by name.</summary>
    public IReadOnlySet<string> Resident { get; set; } = new HashSet<string>();

    /// <summary>How long an unloaded plugin version may take to be collected before it is reported as a leak.</summary>
    public TimeSpan CollectionDeadline { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Called (off socket threads, and awaited) after the plugin folders changed and plugins were added, replaced or removed.</summary>
    public Func<Task>? Changed { get; set; }

    /// <summary>A plugin version was loaded (problem null) or refused (the old one stays): what, and why refused.</summary>
    public event Action<string, string?>? VersionChanged;

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
    /// Loads every plugin folder found in <paramref name="roots"/> (a later root's plugin replaces an earlier one of the
    /// same name). Every problem is reported; plugins that loaded are kept.
    /// </summary>
    /// <param name="roots">The folders holding plugin folders.</param>
    /// <param name="only">Roots from which only the named plugin folders are loaded (the built-in folder of a clone also
    /// holds samples, which must not load as if built in).</param>
    public async Task<List<PluginLoadException>> LoadFoldersAsync(IEnumerable<string> roots, IReadOnlyDictionary<string, IReadOnlySet<string>>? only = null)
    {
        _roots = roots.Distinct().ToList();
        _only = only ?? new Dictionary<string, IReadOnlySet<string>>();
        var errors = new List<PluginLoadException>();
        foreach (string root in _roots.Where(r => !Directory.Exists(r)))
        {
            errors.Add(new PluginLoadException(root, "the plugins folder does not exist; build the plugins (dotnet build) or fix `plugins` in [global]"));
        }

        await SynchronizeAsync(errors).ConfigureAwait(false);
        return errors;
    }

    /// <summary>The plugin folders the roots hold now, by plugin name.</summary>
    private Dictionary<string, string> Discover()
    {
        var found = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string root in _roots.Where(Directory.Exists))
        {
            foreach (string folder in Directory.EnumerateDirectories(root).Order(StringComparer.Ordinal))
            {
                string name = Path.GetFileName(folder);
                if (!name.StartsWith('.') && (!_only.TryGetValue(root, out IReadOnlySet<string>? allowed) || allowed.Contains(name)))
                {
                    found[name] = folder;
                }
            }
        }

        return found;
    }

    /// <summary>A cheap summary of a plugin folder's files (names, sizes, times): what a new build changes.</summary>
    private static string Fingerprint(string folder)
    {
        try
        {
            var parts = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
                .Select(f => new FileInfo(f)).Select(f => $"{f.FullName}:{f.Length}:{f.LastWriteTimeUtc.Ticks}");
            return string.Join("|", parts);
        }
        catch (IOException)
        {
            return "";
        }
    }

    /// <summary>Loads what is new or changed in the plugin folders, retires what disappeared. True when anything changed.</summary>
    private async Task<bool> SynchronizeAsync(List<PluginLoadException> errors)
    {
        Dictionary<string, string> found = Discover();
        bool changed = false;
        foreach ((string name, string folder) in found)
        {
            string fingerprint = Fingerprint(folder);
            lock (_gate)
            {
                if (_sources.TryGetValue(name, out var seen) && seen.Folder == folder && seen.Fingerprint == fingerprint)
                {
                    continue;
                }

                _sources[name] = (folder, fingerprint);
            }

            changed |= await LoadOneAsync(name, folder, errors).ConfigureAwait(false);
        }

        List<string> gone;
        lock (_gate)
        {
            gone = _plugins.Keys.Where(n => !found.ContainsKey(n)).ToList();
            foreach (string name in gone)
            {
                _sources.Remove(name);
            }
        }

        foreach (string name in gone)
        {
            LoadedPlugin removed;
            lock (_gate)
            {
                removed = _plugins[name];
                var next = new Dictionary<string, LoadedPlugin>(_plugins, StringComparer.Ordinal);
                next.Remove(name);
                _plugins = next;
            }

            PluginLog.Removed(_log, name);
            removed.Retire();
            changed = true;
        }

        return changed;
    }

    /// <summary>Loads a version of one plugin beside the current one and swaps it in if it loads, builds and fits.</summary>
    private async Task<bool> LoadOneAsync(string name, string folder, List<PluginLoadException> errors)
    {
        LoadedPlugin fresh;
        try
        {
            fresh = await LoadedPlugin.LoadAsync(folder, Interlocked.Increment(ref _generation), _host, Resident.Contains(name)).ConfigureAwait(false);
            fresh.CollectionDeadline = CollectionDeadline;
        }
        catch (PluginLoadException ex)
        {
            errors.Add(ex);
            return false;
        }

        LoadedPlugin? previous;
        lock (_gate)
        {
            if (Conflict(fresh, name) is { } conflict)
            {
                errors.Add(conflict);
                fresh.Retire();
                return false;
            }

            _plugins.TryGetValue(name, out previous);
            _plugins = new Dictionary<string, LoadedPlugin>(_plugins, StringComparer.Ordinal) { [name] = fresh };
        }

        previous?.Retire();
        VersionChanged?.Invoke($"{name} v{fresh.Generation}", null);
        PluginLog.Loaded(_log, name, fresh.Generation, fresh.AssemblyPath, fresh.SdkVersion?.ToString(2), string.Join(", ", fresh.Supervisors.Keys), string.Join(", ", fresh.Analyzers.Keys));
        return true;
    }

    /// <summary>A supervisor or analyzer name, or a health probe's kind, <paramref name="candidate"/> provides that another plugin already does.</summary>
    private PluginLoadException? Conflict(LoadedPlugin candidate, string name)
    {
        foreach (LoadedPlugin other in _plugins.Values)
        {
            if (other.Name == name)
            {
                continue;
            }

            string? clash = candidate.Supervisors.Keys.Intersect(other.Supervisors.Keys).Select(n => $"supervisor \"{n}\"")
                .Concat(candidate.Analyzers.Keys.Intersect(other.Analyzers.Keys).Select(n => $"analyzer \"{n}\""))
                .Concat(candidate.HealthProbes.Keys.Intersect(other.HealthProbes.Keys).Select(n => $"health probe \"{n}\"")).FirstOrDefault();
            if (clash is not null)
            {
                return new PluginLoadException(candidate.AssemblyPath, $"provides {clash}, which {other.Name} also provides; names must be unique across plugins");
            }
        }

        return null;
    }

    /// <summary>Starts watching the plugin folders: drop-ins, new builds and removals are picked up while running.</summary>
    public void Watch(FileWatchService watching)
    {
        _watch = watching.Watch("plugins", Quiet, async changed =>
        {
            PluginLog.FolderChanged(_log, string.Join(", ", changed));
            if (await RescanAsync().ConfigureAwait(false) && Changed is { } handler)
            {
                await handler().ConfigureAwait(false);
            }
        });
        _watch.Follow([], _roots.Where(Directory.Exists));
    }

    /// <summary>Looks at the plugin folders again now (also used by a configuration reload). True when anything changed.</summary>
    public async Task<bool> RescanAsync()
    {
        var errors = new List<PluginLoadException>();
        bool changed = await SynchronizeAsync(errors).ConfigureAwait(false);
        foreach (PluginLoadException error in errors)
        {
            PluginLog.Refused(_log, error.Message);
            VersionChanged?.Invoke(error.PluginPath, error.Message);
        }

        return changed;
    }

    /// <summary>Finds the plugin providing supervisor <paramref name="name"/>, and takes a reference on it.</summary>
    public bool TryAcquireSupervisor(string name, out LoadedPlugin? plugin, out IProtocolSupervisor? supervisor) =>
        TryAcquire(name, static p => p.Supervisors, out plugin, out supervisor);

    /// <summary>Finds the plugin providing analyzer <paramref name="name"/>, and takes a reference on it.</summary>
    public bool TryAcquireAnalyzer(string name, out LoadedPlugin? plugin, out IFlowAnalyzer? analyzer) =>
        TryAcquire(name, static p => p.Analyzers, out plugin, out analyzer);

    /// <summary>
    /// Finds the plugin providing the health probe of check kind <paramref name="kind"/> now, and takes a reference on it:
    /// release it once the check ended, so that a replaced version can unload.
    /// </summary>
    public bool TryAcquireHealthProbe(string kind, out LoadedPlugin? plugin, out IHealthProbe? probe) =>
        TryAcquire(kind, static p => p.HealthProbes, out plugin, out probe);

    /// <summary>True when a loaded plugin provides the health probe of check kind <paramref name="kind"/>.</summary>
    public bool ProvidesHealthProbe(string kind)
    {
        lock (_gate)
        {
            return _plugins.Values.Any(p => p.HealthProbes.ContainsKey(kind));
        }
    }

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

    /// <summary>Stops watching and retires every plugin: each unloads once the last session using it ends.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_watch is not null)
        {
            await _watch.DisposeAsync().ConfigureAwait(false);
        }

        List<LoadedPlugin> retired;
        lock (_gate)
        {
            retired = [.. _plugins.Values];
            _plugins = new Dictionary<string, LoadedPlugin>(StringComparer.Ordinal);
        }

        retired.ForEach(p => p.Retire());
        await LoadedVersion.WaitForUnloadsAsync(retired).ConfigureAwait(false);
    }
}
