using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Host.Logging;
using PluginProxy.Host.Accept;
using PluginProxy.Host.Admin;
using PluginProxy.Host.Backends;
using PluginProxy.Host.Configuration;
using PluginProxy.Host.Plugins;
using PluginProxy.Host.Scripting;
using PluginProxy.Host.Sessions;
using PluginProxy.Host.Tls;
using PluginProxy.Host.Watching;

namespace PluginProxy.Host;

/// <summary>
/// The running proxy: plugins loaded, backends built, listeners bound and accepting, health checks and the admin
/// endpoint started. Built from a validated configuration by <see cref="Build"/>.
/// </summary>
internal sealed class ProxyHost : IAsyncDisposable
{
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _log;
    private readonly PluginCatalog _plugins;
    private readonly SessionRegistry _sessions = new();
    private List<Listener> _listeners = [];
    private HealthChecker? _health;
    private AdminServer? _admin;
    private bool _stopped;
    private ConsoleAccessLog? _ownedAccessLog;

    private readonly object _reloadGate = new();

    private ProxyHost(ProxyConfig config, ILoggerFactory loggers, PluginCatalog plugins, ScriptCatalog scripts, BackendCatalog backends)
    {
        Config = config;
        _loggers = loggers;
        _log = loggers.CreateLogger("PluginProxy.Host");
        _plugins = plugins;
        Scripts = scripts;
        Backends = backends;
    }

    public ScriptCatalog Scripts { get; }

    public ProxyConfig Config { get; private set; }

    public BackendCatalog Backends { get; private set; }

    public IReadOnlyList<Listener> Listeners => _listeners;

    public PluginCatalog Plugins => _plugins;

    public SessionRegistry Sessions => _sessions;

    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    /// <summary>Where the admin endpoint listens, once started.</summary>
    public System.Net.IPEndPoint? AdminEndPoint => _admin?.EndPoint;

    /// <summary>
    /// Loads the plugins and resolves everything the configuration names. Nothing is bound yet, so <c>check</c> uses
    /// this too. Every problem is reported at once.
    /// </summary>
    /// <exception cref="StartupException">Plugins failed to load or the configuration names what no plugin provides.</exception>
    public static ProxyHost Build(ProxyConfig config, ILoggerFactory loggers, IAccessLog? accessLog = null)
    {
        var connector = new ServerConnector(loggers.CreateLogger("PluginProxy.Backends"));
        ConsoleAccessLog? ownedLog = null;
        if (accessLog is null)
        {
            ownedLog = new ConsoleAccessLog(loggers.CreateLogger("PluginProxy.Access").IsEnabled(LogLevel.Information));
            accessLog = ownedLog;
        }

        var services = new PluginHostServices(loggers, connector, accessLog);
        var plugins = new PluginCatalog(services);
        var scripts = new ScriptCatalog(config.Global.ScriptsDirectory, config.Global.ScriptCacheDirectory, services);
        var problems = new List<string>();
        var folders = new List<string>();
        if (BuiltInPlugins.FindFolder() is { } builtIn && Directory.Exists(builtIn))
        {
            folders.Add(builtIn);
        }

        if (Directory.Exists(config.Global.PluginsDirectory))
        {
            folders.Add(config.Global.PluginsDirectory);
        }
        else
        {
            problems.Add(new ConfigError(config.Global.PluginsSpot,
                $"the plugins folder {config.Global.PluginsDirectory} does not exist; build the plugins (dotnet build) or fix `plugins` in [global]").ToString());
        }

        foreach (PluginLoadException error in plugins.LoadFolders(folders))
        {
            problems.Add(error.Message);
        }

        var backends = new BackendCatalog(config.Backends);
        var host = new ProxyHost(config, loggers, plugins, scripts, backends) { _ownedAccessLog = ownedLog };
        var errors = new List<ConfigError>();
        scripts.LoadAll(config.Listeners.SelectMany(l => l.RequestAnalyzers.Concat(l.ResponseAnalyzers).Append(l.Supervisor)), errors);
        foreach (ListenerConfig listenerConfig in config.Listeners)
        {
            if (ListenerPipeline.Build(listenerConfig, plugins, scripts, backends, errors) is { } pipeline)
            {
                host._listeners.Add(new Listener(listenerConfig, pipeline, host._sessions, loggers));
            }
        }

        problems.AddRange(errors.Select(e => e.ToString()));
        if (problems.Count > 0)
        {
            host.ReleaseEverything();
            throw new StartupException(problems);
        }

        scripts.RetainOnly(config);
        return host;
    }

    /// <summary>Binds every listener and the admin endpoint, then starts accepting and checking.</summary>
    /// <exception cref="StartupException">Some address cannot be bound; nothing is left listening.</exception>
    public void Start()
    {
        var problems = new List<string>();
        foreach (Listener listener in _listeners)
        {
            try
            {
                listener.Bind();
            }
            catch (ListenerBindException ex)
            {
                problems.Add(ex.Message);
            }
        }

        if (Config.Global.Admin is { } adminAddress)
        {
            try
            {
                _admin = new AdminServer(this, adminAddress, _loggers.CreateLogger("PluginProxy.Admin"));
            }
            catch (System.Net.Sockets.SocketException ex)
            {
                problems.Add($"{Config.FilePath}: the admin endpoint cannot bind {EndPoints.Format(adminAddress)}: {ex.SocketErrorCode}");
            }
        }

        if (problems.Count > 0)
        {
            foreach (Listener listener in _listeners)
            {
                listener.StopAcceptingAsync().GetAwaiter().GetResult();
            }

            _admin?.Dispose();
            throw new StartupException(problems);
        }

        foreach (Listener listener in _listeners)
        {
            listener.StartAccepting();
        }

        _admin?.Start();
        _health = new HealthChecker(Backends, _loggers.CreateLogger("PluginProxy.Health"));
        Scripts.Reloaded += _ => RebuildPipelines();
        _plugins.Changed += RebuildPipelines;
        if (Config.Global.HotReload)
        {
            _watching = new FileWatchService(_loggers.CreateLogger("PluginProxy.Watch"));
            Scripts.Watch(_watching);
            _plugins.Watch(_watching);
            WatchConfigFile(_watching);
            WatchCertificates(Config);
        }

        _log.LogInformation("PluginProxy started: {Listeners} listener(s), {Backends} backend(s), {Plugins} plugin(s){Admin}",
            _listeners.Count, Backends.Backends.Count, _plugins.Plugins.Count,
            _admin is null ? "" : $", admin on http://{EndPoints.Format(_admin.EndPoint)}/");
    }

    public Listener? FindListener(string name) => _listeners.Find(l => l.Name == name);

    /// <summary>
    /// Loads the configuration file again and applies it while traffic flows: plugin folders are looked at again (a
    /// plugin dropped in becomes usable), new scripts are compiled, backends are rebuilt, listeners whose sockets are
    /// unchanged get a new pipeline (running streams finish on the old one), others are rebound, removed ones stop
    /// accepting and drain. A configuration with any error is refused as a whole and the running one stays.
    /// </summary>
    /// <returns>The problems found; empty when the new configuration is running.</returns>
    public IReadOnlyList<string> ReloadConfiguration()
    {
        lock (_reloadGate)
        {
            ProxyConfig next;
            try
            {
                next = ConfigLoader.Load(Config.FilePath);
            }
            catch (ConfigException ex)
            {
                return Refuse(ex.Errors.Select(e => e.ToString()).ToList());
            }

            var problems = new List<string>();
            if (next.Global.ScriptsDirectory != Config.Global.ScriptsDirectory || next.Global.PluginsDirectory != Config.Global.PluginsDirectory)
            {
                problems.Add($"{Config.FilePath}: changing `plugins` or `scripts` in [global] needs a restart");
            }

            if (next.Global.HotReload != Config.Global.HotReload)
            {
                problems.Add($"{Config.FilePath}: changing `hot_reload` needs a restart");
            }

            if (problems.Count > 0)
            {
                return Refuse(problems);
            }

            _plugins.Rescan();
            var errors = new List<ConfigError>();
            Scripts.LoadAll(next.Listeners.SelectMany(l => l.RequestAnalyzers.Concat(l.ResponseAnalyzers).Append(l.Supervisor)), errors);
            var backends = new BackendCatalog(next.Backends);
            var pipelines = new List<ListenerPipeline>();
            foreach (ListenerConfig listenerConfig in next.Listeners)
            {
                if (ListenerPipeline.Build(listenerConfig, _plugins, Scripts, backends, errors) is { } pipeline)
                {
                    pipelines.Add(pipeline);
                }
            }

            if (errors.Count > 0)
            {
                pipelines.ForEach(p => p.Retire());
                return Refuse(errors.Select(e => e.ToString()).ToList());
            }

            // Apply: keep, rebind, add, and retire listeners.
            var kept = new List<Listener>();
            foreach (ListenerPipeline pipeline in pipelines)
            {
                Listener? existing = FindListener(pipeline.Config.Name);
                if (existing is not null && existing.CanKeepSockets(pipeline.Config))
                {
                    existing.SwapPipeline(pipeline).Retire();
                    kept.Add(existing);
                    continue;
                }

                if (existing is not null)
                {
                    // Its sockets change: stop accepting there first (the addresses may be the same), sessions drain.
                    existing.StopAcceptingAsync().GetAwaiter().GetResult();
                    existing.Pipeline.Retire();
                }

                var listener = new Listener(pipeline.Config, pipeline, _sessions, _loggers);
                try
                {
                    listener.Bind();
                    listener.StartAccepting();
                    kept.Add(listener);
                }
                catch (ListenerBindException ex)
                {
                    problems.Add(ex.Message);
                    pipeline.Retire();
                }
            }

            foreach (Listener removed in _listeners.Where(l => !kept.Contains(l) && pipelines.All(p => p.Config.Name != l.Name)))
            {
                removed.StopAcceptingAsync().GetAwaiter().GetResult();
                removed.Pipeline.Retire();
                _log.LogInformation("Listener {Listener} removed: no longer accepting; its sessions finish", removed.Name);
            }

            _listeners = kept;
            Backends = backends;
            _health?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            _health = new HealthChecker(Backends, _loggers.CreateLogger("PluginProxy.Health"));
            if (!Equals(next.Global.Admin, Config.Global.Admin))
            {
                _admin?.Dispose();
                _admin = null;
                if (next.Global.Admin is { } adminAddress)
                {
                    try
                    {
                        _admin = new AdminServer(this, adminAddress, _loggers.CreateLogger("PluginProxy.Admin"));
                        _admin.Start();
                    }
                    catch (System.Net.Sockets.SocketException ex)
                    {
                        problems.Add($"{next.FilePath}: the admin endpoint cannot bind {EndPoints.Format(adminAddress)}: {ex.SocketErrorCode}");
                    }
                }
            }

            ProxyConfig previous = Config;
            Config = next;
            Scripts.RetainOnly(next);
            if (Config.Global.HotReload)
            {
                WatchCertificates(next);
            }

            // Sessions accepted before keep the certificates they hold; only the watching stops.
            StopWatchingCertificates(previous);
            foreach (string problem in problems)
            {
                _log.LogError("Configuration reload: {Problem}", problem);
            }

            _log.LogInformation("Configuration reloaded from {Path}: {Listeners} listener(s), {Backends} backend(s)", next.FilePath, _listeners.Count, Backends.Backends.Count);
            return problems;
        }
    }

    /// <summary>With hot reload, a changed certificate or key file is loaded again (and refused with a log line if broken).</summary>
    private void WatchCertificates(ProxyConfig config)
    {
        if (_watching is null)
        {
            return;
        }

        ILogger log = _loggers.CreateLogger("PluginProxy.Tls");
        foreach (ListenerConfig listener in config.Listeners)
        {
            (listener.Settings.Tls?.Certificates as ListenerCertificates)?.Watch(_watching, log);
        }
    }

    private static void StopWatchingCertificates(ProxyConfig config)
    {
        foreach (ListenerConfig listener in config.Listeners)
        {
            (listener.Settings.Tls?.Certificates as ListenerCertificates)?.Dispose();
        }
    }

    private IReadOnlyList<string> Refuse(List<string> problems)
    {
        foreach (string problem in problems)
        {
            _log.LogError("Configuration reload refused, the running configuration stays: {Problem}", problem);
        }

        return problems;
    }

    /// <summary>Every file the proxy watches with hot reload (scripts, plugin folders, this configuration, certificates).</summary>
    private FileWatchService? _watching;

    /// <summary>With hot reload, a change to the configuration file reloads it (as SIGHUP does), after 300 ms of quiet.</summary>
    private void WatchConfigFile(FileWatchService watching) =>
        watching.Watch("configuration", TimeSpan.FromMilliseconds(300), _ => ReloadConfiguration()).Follow([Config.FilePath]);

    /// <summary>
    /// Builds every listener's pipeline again from the current plugin and script versions and swaps it in: new streams
    /// use it, streams in progress finish on the previous one, which is released when the last of them ends.
    /// </summary>
    public void RebuildPipelines()
    {
        lock (_reloadGate)
        {
            foreach (Listener listener in _listeners)
            {
                var errors = new List<ConfigError>();
                if (ListenerPipeline.Build(listener.Config, _plugins, Scripts, Backends, errors) is { } pipeline)
                {
                    listener.SwapPipeline(pipeline).Retire();
                }
                else
                {
                    _log.LogError("Listener {Listener} keeps its current pipeline: {Errors}", listener.Name, string.Join("; ", errors));
                }
            }
        }
    }

    /// <summary>
    /// Stops accepting, lets running sessions finish for up to <paramref name="grace"/>, closes what is left, and
    /// releases the plugins.
    /// </summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        foreach (Listener listener in _listeners)
        {
            await listener.StopAcceptingAsync().ConfigureAwait(false);
        }

        int running = _sessions.Count;
        if (running > 0)
        {
            _log.LogInformation("Stopping: waiting up to {Grace} for {Count} session(s) to finish", Units.Format(grace), running);
        }

        int closed = await _sessions.DrainAsync(grace).ConfigureAwait(false);
        if (closed > 0)
        {
            _log.LogWarning("Stopping: grace time over, closed {Count} session(s)", closed);
        }

        if (_health is not null)
        {
            await _health.DisposeAsync().ConfigureAwait(false);
        }

        _watching?.Dispose();
        _admin?.Dispose();
        StopWatchingCertificates(Config);
        ReleaseEverything();
        _log.LogInformation("PluginProxy stopped");
    }

    private void ReleaseEverything()
    {
        foreach (Listener listener in _listeners)
        {
            listener.Pipeline.Retire();
        }

        Scripts.Dispose();
        _plugins.Dispose();
        _ownedAccessLog?.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.Zero).ConfigureAwait(false);
        _sessions.Dispose();
    }
}
