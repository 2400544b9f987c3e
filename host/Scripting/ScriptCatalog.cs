using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using PluginProxy.Host.Configuration;
using PluginProxy.Host.Plugins;

namespace PluginProxy.Host.Scripting;

/// <summary>
/// The scripts the configuration names, each at its current compiled version. With hot reload, a change to a script or
/// to a file it loads recompiles it in the background; a version that compiles cleanly replaces the current one (and
/// <see cref="Reloaded"/> lets the host rebuild the listeners' pipelines), a broken one is logged with its positions and
/// the current version keeps serving.
/// </summary>
internal sealed class ScriptCatalog : IDisposable
{
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(100);

    private readonly string _scriptsDirectory;
    private readonly ScriptCache _cache;
    private readonly PluginHostServices _host;
    private readonly ILogger _log;
    private readonly object _gate = new();
    private readonly Dictionary<string, LoadedScript> _current = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FileSystemWatcher> _watchers = new(StringComparer.Ordinal);
    private readonly Channel<string> _changes = Channel.CreateUnbounded<string>();
    private CancellationTokenSource? _watching;
    private Task? _reloadLoop;
    private int _versions;

    public ScriptCatalog(string scriptsDirectory, string cacheDirectory, PluginHostServices host)
    {
        _scriptsDirectory = scriptsDirectory;
        _cache = new ScriptCache(cacheDirectory);
        _host = host;
        _log = host.LoggerFactory.CreateLogger("PluginProxy.Scripts");
    }

    /// <summary>Raised (on a background thread) after a script was replaced by a newly compiled version.</summary>
    public event Action<string>? Reloaded;

    /// <summary>Raised after a changed script failed to compile; the errors are logged, the old version serves on.</summary>
    public event Action<string, IReadOnlyList<ConfigError>>? ReloadFailed;

    public static bool IsScript(string name) => name.EndsWith(".csx", StringComparison.OrdinalIgnoreCase);

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

    /// <summary>Compiles (or takes from the cache) every script named; every problem is reported with its position.</summary>
    public void LoadAll(IEnumerable<Named> names, List<ConfigError> errors)
    {
        foreach (Named name in names.Where(n => IsScript(n.Name)).DistinctBy(n => Resolve(n.Name)))
        {
            string path = Resolve(name.Name);
            if (Load(path, name.Spot, errors) is { } script)
            {
                lock (_gate)
                {
                    _current[path] = script;
                }
            }
        }
    }

    private LoadedScript? Load(string path, SourceSpot namedAt, List<ConfigError> errors)
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
            _log.LogInformation("Script {Script} compiled in {Milliseconds} ms", path, watch.ElapsedMilliseconds);
        }

        return LoadedScript.Create(path, Interlocked.Increment(ref _versions), sources.Files.Select(f => f.FullPath).ToList(), image, _host, errors, namedAt);
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

    /// <summary>Starts watching every script file (and what the scripts load) for changes.</summary>
    public void Watch()
    {
        _watching = new CancellationTokenSource();
        UpdateWatchers();
        _reloadLoop = Task.Run(() => ReloadLoopAsync(_watching.Token));
    }

    private void UpdateWatchers()
    {
        lock (_gate)
        {
            foreach (string directory in _current.Values.SelectMany(s => s.Files).Select(f => Path.GetDirectoryName(f)!).Distinct())
            {
                if (_watchers.ContainsKey(directory) || !Directory.Exists(directory))
                {
                    continue;
                }

                var watcher = new FileSystemWatcher(directory)
                {
                    NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
                    IncludeSubdirectories = false,
                };
                watcher.Changed += (_, e) => _changes.Writer.TryWrite(e.FullPath);
                watcher.Created += (_, e) => _changes.Writer.TryWrite(e.FullPath);
                watcher.Renamed += (_, e) => _changes.Writer.TryWrite(e.FullPath);
                watcher.EnableRaisingEvents = true;
                _watchers[directory] = watcher;
            }
        }
    }

    private async Task ReloadLoopAsync(CancellationToken stop)
    {
        try
        {
            while (await _changes.Reader.WaitToReadAsync(stop).ConfigureAwait(false))
            {
                // Editors write files in several steps: wait until the changes settle, then recompile once.
                var changed = new HashSet<string>(StringComparer.Ordinal);
                do
                {
                    while (_changes.Reader.TryRead(out string? path))
                    {
                        changed.Add(path);
                    }

                    await Task.Delay(Debounce, stop).ConfigureAwait(false);
                }
                while (_changes.Reader.TryPeek(out _));

                List<string> affected;
                lock (_gate)
                {
                    affected = _current.Values.Where(s => s.Files.Any(changed.Contains)).Select(s => s.Path).ToList();
                }

                foreach (string path in affected)
                {
                    Reload(path);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>Compiles the script at <paramref name="path"/> again; swaps it in if it compiles and loads cleanly.</summary>
    public bool Reload(string path)
    {
        var errors = new List<ConfigError>();
        var watch = Stopwatch.StartNew();
        LoadedScript? fresh = Load(path, new SourceSpot(path, 1, 1), errors);
        if (fresh is null)
        {
            foreach (ConfigError error in errors)
            {
                _log.LogError("Script reload refused, the previous version keeps serving: {Error}", error.ToString());
            }

            ReloadFailed?.Invoke(path, errors);
            return false;
        }

        LoadedScript? previous;
        lock (_gate)
        {
            _current.TryGetValue(path, out previous);
            _current[path] = fresh;
        }

        previous?.Retire();
        if (_watching is not null)
        {
            UpdateWatchers();
        }

        _log.LogInformation("Script {Script} reloaded: version {Version} serves new streams ({Milliseconds} ms)", path, fresh.Version, watch.ElapsedMilliseconds);
        Reloaded?.Invoke(path);
        return true;
    }

    public void Dispose()
    {
        _watching?.Cancel();
        _changes.Writer.TryComplete();
        try
        {
            _reloadLoop?.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The loop ended with the cancellation.
        }

        lock (_gate)
        {
            foreach (FileSystemWatcher watcher in _watchers.Values)
            {
                watcher.Dispose();
            }

            _watchers.Clear();
            foreach (LoadedScript script in _current.Values)
            {
                script.Retire();
            }

            _current.Clear();
        }

        _watching?.Dispose();
    }
}
