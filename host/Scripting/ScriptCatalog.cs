using System.Diagnostics;
using Microsoft.Extensions.Logging;
using PluginProxy.Host.Configuration;
using PluginProxy.Host.Plugins;
using PluginProxy.Host.Watching;

namespace PluginProxy.Host.Scripting;

/// <summary>
/// The scripts the configuration names, each at its current compiled version. With hot reload, a change to a script or
/// to a file it loads recompiles it in the background; a version that compiles cleanly replaces the current one (and
/// <see cref="Reloaded"/> lets the host rebuild the listeners' pipelines), a broken one is logged with its positions and
/// the current version keeps serving. Every script a configuration names is followed, from the moment it is loaded.
/// </summary>
internal sealed class ScriptCatalog : IAsyncDisposable
{
    /// <summary>How long a script must be left alone after a change before it is compiled (editors write in several steps).</summary>
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(100);

    private readonly string _scriptsDirectory;
    private readonly ScriptCache _cache;
    private readonly PluginHostServices _host;
    private readonly ILogger _log;
    private readonly object _gate = new();

    // Loading (read, compile, swap) is serialized, so that a configuration reload and a file change never race to install
    // different versions of one script: whichever runs last read the file last.
    private readonly SemaphoreSlim _loading = new(1, 1);
    private readonly Dictionary<string, LoadedScript> _current = new(StringComparer.Ordinal);

    // Scripts a configuration load installed a new version of that no applied configuration has used yet (the load may
    // be refused): the next change reported for them rebuilds the pipelines even though the sources are those installed.
    private readonly HashSet<string> _unapplied = new(StringComparer.Ordinal);
    private FileWatch? _watch;
    private int _versions;

    public ScriptCatalog(string scriptsDirectory, string cacheDirectory, PluginHostServices host)
    {
        _scriptsDirectory = scriptsDirectory;
        _cache = new ScriptCache(cacheDirectory);
        _host = host;
        _log = host.LoggerFactory.CreateLogger("PluginProxy.Scripts");
    }

    /// <summary>Called (off socket threads, and awaited) after a script was replaced by a newly compiled version.</summary>
    public Func<string, Task>? Reloaded { get; set; }

    /// <summary>Raised after a changed script failed to compile; the errors are logged, the old version serves on.</summary>
    public event Action<string, IReadOnlyList<ConfigError>>? ReloadFailed;

    /// <summary>A script changed and its new version took over.</summary>
    public event Action<string>? Versioned;

    public static bool IsScript(string name) => name.EndsWith(".csx", StringComparison.OrdinalIgnoreCase);

    /// <summary>Every name in <paramref name="config"/> that may be a script: supervisors and analyzers of every listener.</summary>
    public static IEnumerable<Named> NamedBy(ProxyConfig config) =>
        config.Listeners.SelectMany(l => l.RequestAnalyzers.Concat(l.ResponseAnalyzers).Append(l.Supervisor)).Where(n => IsScript(n.Name));

    public string Resolve(string name) => Path.GetFullPath(name, _scriptsDirectory);

    public IReadOnlyCollection<LoadedScript> Scripts
    {
        get
        {
            lock (_gate)
            {
                return _current.Values.ToList();
            }
        }
    }

    /// <summary>
    /// Compiles (or takes from the cache) every script named; every problem is reported with its position. A script
    /// already loaded whose files did not change keeps its version. With hot reload, every script named is followed.
    /// </summary>
    public async Task LoadAllAsync(IEnumerable<Named> names, List<ConfigError> errors)
    {
        List<Named> scripts = names.Where(n => IsScript(n.Name)).DistinctBy(n => Resolve(n.Name)).ToList();
        await _loading.WaitAsync().ConfigureAwait(false);
        try
        {
            // Follow first, then read: an edit made while a script compiles is then seen, and compiled next.
            Follow(scripts.Select(n => Resolve(n.Name)));
            foreach (Named name in scripts)
            {
                string path = Resolve(name.Name);
                LoadedScript? current = Current(path);
                if (await LoadAsync(path, name.Spot, errors, current).ConfigureAwait(false) is { } script && script != current)
                {
                    Install(path, script);
                    _unapplied.Add(path);
                }
            }

            Follow([]);
        }
        finally
        {
            _loading.Release();
        }
    }

    /// <summary>
    /// Called once <paramref name="config"/> is applied (its pipelines use the current versions): forgets the scripts it
    /// does not name; they are no longer followed, and unload once no pipeline uses them.
    /// </summary>
    public async Task RetainOnlyAsync(ProxyConfig config)
    {
        var named = NamedBy(config).Select(n => Resolve(n.Name)).ToHashSet(StringComparer.Ordinal);
        await _loading.WaitAsync().ConfigureAwait(false);
        try
        {
            _unapplied.Clear();
            List<LoadedScript> dropped;
            lock (_gate)
            {
                dropped = _current.Values.Where(s => !named.Contains(s.Path)).ToList();
                foreach (LoadedScript script in dropped)
                {
                    _current.Remove(script.Path);
                }
            }

            dropped.ForEach(s => s.Retire());
            Follow([]);
        }
        finally
        {
            _loading.Release();
        }
    }

    private LoadedScript? Current(string path)
    {
        lock (_gate)
        {
            return _current.GetValueOrDefault(path);
        }
    }

    private void Install(string path, LoadedScript script)
    {
        LoadedScript? previous;
        lock (_gate)
        {
            _current.TryGetValue(path, out previous);
            _current[path] = script;
        }

        previous?.Retire();
    }

    /// <summary>Reads and compiles the script at <paramref name="path"/>: <paramref name="current"/> itself when its sources did not change, null (with errors) when it cannot be used.</summary>
    private async Task<LoadedScript?> LoadAsync(string path, SourceSpot namedAt, List<ConfigError> errors, LoadedScript? current)
    {
        if (!File.Exists(path))
        {
            errors.Add(new ConfigError(namedAt, $"script {path} does not exist (relative script paths start from `scripts` in [global]: {_scriptsDirectory})"));
            return null;
        }

        ScriptSources? sources = ScriptSources.Read(path, namedAt, errors);
        if (sources is null)
        {
            return null;
        }

        string key = sources.CacheKey(ScriptCompiler.Toolchain);
        if (current?.SourceKey == key)
        {
            return current;
        }

        byte[]? image = _cache.TryRead(key);
        if (image is null)
        {
            var watch = Stopwatch.StartNew();
            (string? source, _) = ScriptGenerator.Generate(sources, errors);
            image = source is null ? null : ScriptCompiler.Compile("pluginproxy_script_" + key, source, path, errors);
            if (image is null)
            {
                return null;
            }

            _cache.Write(key, image);
            ScriptLog.Compiled(_log, path, watch.ElapsedMilliseconds);
        }

        return await LoadedScript.CreateAsync(path, Interlocked.Increment(ref _versions), key, sources.Files.Select(f => f.FullPath).ToList(), image, _host, errors, namedAt).ConfigureAwait(false);
    }

    /// <summary>The current version of the script at <paramref name="path"/>, with a reference taken on it.</summary>
    public bool TryAcquire(string path, out LoadedScript? script)
    {
        lock (_gate)
        {
            if (_current.TryGetValue(path, out script) && script.TryAcquire())
            {
                return true;
            }
        }

        script = null;
        return false;
    }

    /// <summary>Starts following every script file (and what the scripts load) through <paramref name="watching"/>.</summary>
    public async Task WatchAsync(FileWatchService watching)
    {
        List<string> files;
        await _loading.WaitAsync().ConfigureAwait(false);
        try
        {
            _watch = watching.Watch("scripts", Quiet, OnChangedAsync);
            Follow([]);
            lock (_gate)
            {
                files = _current.Values.SelectMany(s => s.Files).Distinct().ToList();
            }
        }
        finally
        {
            _loading.Release();
        }

        if (files.Count > 0)
        {
            // A thread of its own: the compile that warms the compiler up runs for seconds and must hold no pool thread.
            new Thread(() => _ = CatchUpAndWarmUpAsync(files)) { IsBackground = true, Name = "scripts warm-up" }.Start();
        }
    }

    /// <summary>
    /// Off the start-up path: reloads what changed between loading and following (an edit during start-up), then
    /// compiles once to warm the compiler up. The first compile of a process runs the compiler's code cold (seconds under
    /// load); with it done here, the first edit compiles as fast as the next ones.
    /// </summary>
    private async Task CatchUpAndWarmUpAsync(List<string> files)
    {
        try
        {
            await OnChangedAsync(files).ConfigureAwait(false);
            ScriptCompiler.WarmUp();
        }
        catch (Exception ex)
        {
            // Nobody awaits this: nothing may escape it. A reload that failed here is retried by the next change.
            ScriptLog.WarmUpFailed(_log, ex);
        }
    }

    /// <summary>Follows the files of the current scripts and <paramref name="more"/> (scripts about to be read).</summary>
    private void Follow(IEnumerable<string> more)
    {
        if (_watch is null)
        {
            return;
        }

        List<string> files;
        lock (_gate)
        {
            files = _current.Values.SelectMany(s => s.Files).Concat(more).Distinct().ToList();
        }

        _watch.Follow(files);
    }

    /// <summary>A followed file changed: recompiles every script that uses it (on the watch's thread, never a socket thread).</summary>
    private async Task OnChangedAsync(IReadOnlyCollection<string> changed)
    {
        var reloaded = new List<string>();
        await _loading.WaitAsync().ConfigureAwait(false);
        try
        {
            List<string> affected;
            lock (_gate)
            {
                affected = _current.Values.Where(s => s.Files.Any(changed.Contains)).Select(s => s.Path).ToList();
            }

            foreach (string path in affected)
            {
                if (await TryReloadAsync(path).ConfigureAwait(false) is (true, true))
                {
                    reloaded.Add(path);
                }
            }
        }
        finally
        {
            _loading.Release();
        }

        // Outside the loading gate: the host rebuilds pipelines under its reload gate, which a configuration reload holds
        // while it loads scripts.
        foreach (string path in reloaded)
        {
            await RaiseReloadedAsync(path).ConfigureAwait(false);
        }
    }

    private Task RaiseReloadedAsync(string path) => Reloaded is { } handler ? handler(path) : Task.CompletedTask;

    /// <summary>Compiles the script at <paramref name="path"/> again; swaps it in if it changed, compiles and loads cleanly.</summary>
    /// <returns>True when the file's current content is what serves (a new version, or the same sources as before).</returns>
    public async Task<bool> ReloadAsync(string path)
    {
        bool serves, swapped;
        await _loading.WaitAsync().ConfigureAwait(false);
        try
        {
            (serves, swapped) = await TryReloadAsync(path).ConfigureAwait(false);
        }
        finally
        {
            _loading.Release();
        }

        if (serves && swapped)
        {
            await RaiseReloadedAsync(path).ConfigureAwait(false);
        }

        return serves;
    }

    /// <summary>Under the loading gate: loads the file again and installs it if it changed.</summary>
    /// <returns>Serves: false when it is refused (logged). Swapped: the pipelines must be rebuilt to use what serves.</returns>
    private async Task<(bool Serves, bool Swapped)> TryReloadAsync(string path)
    {
        var errors = new List<ConfigError>();
        var watch = Stopwatch.StartNew();
        LoadedScript? current = Current(path);
        LoadedScript? fresh = await LoadAsync(path, new SourceSpot(path, 1, 1), errors, current).ConfigureAwait(false);
        if (fresh is null)
        {
            foreach (ConfigError error in errors)
            {
                ScriptLog.ReloadRefused(_log, error.ToString());
            }

            ReloadFailed?.Invoke(path, errors);
            return (false, false);
        }

        // Installed by a configuration load that was then refused: the pipelines still run the previous version.
        bool swapped = _unapplied.Remove(path);
        if (fresh != current)
        {
            swapped = true;
            Install(path, fresh);
            Follow([]);
            ScriptLog.Reloaded(_log, path, fresh.Version, watch.ElapsedMilliseconds);
            Versioned?.Invoke($"{System.IO.Path.GetFileName(path)} v{fresh.Version}");
        }

        return (true, swapped);
    }

    public async ValueTask DisposeAsync()
    {
        if (_watch is not null)
        {
            await _watch.DisposeAsync().ConfigureAwait(false);
        }

        List<LoadedScript> retired;
        lock (_gate)
        {
            retired = [.. _current.Values];
            _current.Clear();
        }

        retired.ForEach(s => s.Retire());
        await LoadedVersion.WaitForUnloadsAsync(retired).ConfigureAwait(false);
    }
}
