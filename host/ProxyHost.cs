using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Host.Logging;
using PluginProxy.Host.Metrics;
using PluginProxy.Host.Accept;
using PluginProxy.Host.Admin;
using PluginProxy.Host.Backends;
using PluginProxy.Host.Configuration;
using PluginProxy.Host.Plugins;
using PluginProxy.Host.Scripting;
using PluginProxy.Host.Sessions;
using PluginProxy.Host.Tls;
using PluginProxy.Host.Watching;

using PluginProxy.Host.Stores;

namespace PluginProxy.Host;

/// <summary>
/// The running proxy: plugins loaded, backends built, listeners bound and accepting, health checks and the admin
/// endpoint started. Built from a validated configuration by <see cref="Build"/>. Reloads are in <c>ProxyHost.Reload.cs</c>.
/// </summary>
internal sealed partial class ProxyHost : IAsyncDisposable
{
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _log;
    private readonly PluginCatalog _plugins;
    private readonly SessionRegistry _sessions = new();
    private List<Listener> _listeners = [];
    private HealthChecker? _health;

    /// <summary>Resolves the names of servers named by host name (<c>resolvers</c>), and the loops that do it again.</summary>
    private NameResolver _resolver = new(DnsSettings.Default);
    private StoreSet _startingStores = StoreSet.Empty;
    private DnsRefresher? _dns;
    private AdminServer? _admin;
    private bool _stopped;
    private AccessLogWriter? _ownedAccessLog;

    // Tasks that sockets complete (accept loops, sessions, health checks, a plugin's StartAsync) are awaited with
    // ForceYielding: with inline socket completions, the rest of a reload or a stop would otherwise run on the socket
    // thread that completed them, and socket threads must never block.

    /// <summary>One reload at a time (a configuration reload, or pipelines rebuilt after a plugin or script changed); others wait their turn.</summary>
    private readonly SemaphoreSlim _reloadGate = new(1, 1);

    /// <summary>The files the running configuration loaded (certificates, CA files): retired when a reload replaces it.</summary>
    private MaterializedConfig _materialized;

    private ProxyHost(MaterializedConfig materialized, ILoggerFactory loggers, PluginCatalog plugins, ScriptCatalog scripts, BackendCatalog backends)
    {
        _materialized = materialized;
        Config = materialized.Config;
        _loggers = loggers;
        _log = loggers.CreateLogger("PluginProxy.Host");
        _plugins = plugins;
        Scripts = scripts;
        Backends = backends;
        plugins.VersionChanged += (what, problem) => NoteReload("plugin", what, problem is null, problem);
        scripts.Versioned += what => NoteReload("script", what, true);
        scripts.ReloadFailed += (path, errors) => NoteReload("script", Path.GetFileName(path), false, errors.Count > 0 ? errors[0].ToString() : null);
    }

    public ScriptCatalog Scripts { get; }

    public ProxyConfig Config { get; private set; }

    public BackendCatalog Backends { get; private set; }

    public IReadOnlyList<Listener> Listeners => _listeners;

    public PluginCatalog Plugins => _plugins;

    public SessionRegistry Sessions => _sessions;

    /// <summary>The stick tables of the running configuration (<c>[[stick_table]]</c>).</summary>
    public Tables.StickTables StickTables { get; private init; } = new();

    /// <summary>The shared stores of the running configuration (<c>[[store]]</c>).</summary>
    public StoreCatalog Stores { get; private init; } = null!;

    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    /// <summary>Where the admin endpoint listens, once started.</summary>
    public System.Net.IPEndPoint? AdminEndPoint => _admin?.EndPoint;

    /// <summary>For tests: raised with what a reload materialised, before anything else of the reload can fail.</summary>
    internal event Action<MaterializedConfig>? ReloadMaterialized;

    /// <summary>
    /// Materialises the parsed configuration (certificates, CA files, admin token: <see cref="ConfigMaterializer"/>),
    /// loads the plugins and resolves everything the configuration names. Nothing is bound yet, so <c>check</c> uses
    /// this too. Every problem is reported at once.
    /// </summary>
    /// <param name="configErrors">Errors already found in the file (<see cref="ConfigLoader.Read"/>): the plugins and
    /// scripts are still resolved, so that one pass reports everything, and then the build fails with all of them.</param>
    /// <exception cref="StartupException">Plugins failed to load or the configuration names what no plugin provides.</exception>
    public static async Task<ProxyHost> BuildAsync(ProxyConfig config, ILoggerFactory loggers, IAccessLog? accessLog = null, IReadOnlyList<ConfigError>? configErrors = null)
    {
        var connector = new ServerConnector(loggers.CreateLogger("PluginProxy.Backends"));
        AccessLogWriter? ownedLog = null;
        if (accessLog is null)
        {
            ownedLog = AccessLogWriter.Open(config, loggers);
            accessLog = ownedLog;
        }

        var metrics = new ProxyMetrics();
        var recorder = new AccessRecorder(accessLog, metrics);
        var tracing = new RequestTracing();
        var stickTables = new Tables.StickTables();
        var stores = new StoreCatalog(loggers);
        var services = new PluginHostServices(loggers, connector, recorder, metrics.Scope, tracing) { StickTables = stickTables, Stores = stores };
        var plugins = new PluginCatalog(services);
        var scripts = new ScriptCatalog(config.Global.ScriptsDirectory, config.Global.ScriptCacheDirectory, services);
        var problems = new List<string>();
        var errors = new List<ConfigError>(configErrors ?? []);
        if (ownedLog?.OpenError is { } logTarget)
        {
            errors.Add(logTarget);
        }

        MaterializedConfig materialized = ConfigMaterializer.Materialize(config, errors);
        config = materialized.Config;
        await LoadPluginsAsync(config, plugins, loggers.CreateLogger("PluginProxy.Plugins"), problems, errors).ConfigureAwait(false);

        StoreSet storeSet = stores.Prepare(config.Stores);
        Tables.StickTableSet tableSet = stickTables.Prepare(config.StickTables, storeSet);
        stickTables.Commit(tableSet, config.StickTables);
        var backends = new BackendCatalog(config.Backends, tables: tableSet, log: loggers.CreateLogger("PluginProxy.Backends"));
        var resolver = new NameResolver(config.Global.Dns);
        await DnsRefresher.ResolveNewAsync(backends, resolver, loggers.CreateLogger("PluginProxy.Dns"), errors).ConfigureAwait(false);
        var host = new ProxyHost(materialized, loggers, plugins, scripts, backends)
        {
            _ownedAccessLog = ownedLog, Metrics = metrics, Recorder = recorder, Tracing = tracing, StickTables = stickTables, _resolver = resolver,
            Stores = stores, _startingStores = storeSet,
        };
        metrics.Attach(host);
        await scripts.LoadAllAsync(ScriptCatalog.NamedBy(config), errors).ConfigureAwait(false);
        foreach (ListenerConfig listenerConfig in config.Listeners)
        {
            if (ListenerPipeline.Build(listenerConfig, plugins, scripts, backends, errors) is { } pipeline)
            {
                host._listeners.Add(new Listener(listenerConfig, pipeline, host._sessions, loggers, ownedLog));
            }
        }

        problems.AddRange(ConfigLoader.InFileOrder(errors, config.FilePath).Select(e => e.ToString()));
        if (problems.Count > 0)
        {
            await host.ReleaseEverythingAsync().ConfigureAwait(false);
            host._sessions.Dispose(); // its parking lot's epoll descriptor
            materialized.Dispose();
            throw new StartupException(problems);
        }

        await scripts.RetainOnlyAsync(config).ConfigureAwait(false);
        return host;
    }

    /// <summary>
    /// Loads the built-in plugins (only those: the folder they come from may hold samples) and those of the `plugins`
    /// folder. A folder the configuration names must exist; the default one may be absent (a configuration kept outside
    /// the clone needs no plugin of its own).
    /// </summary>
    private static async Task LoadPluginsAsync(ProxyConfig config, PluginCatalog plugins, ILogger log, List<string> problems, List<ConfigError> errors)
    {
        var folders = new List<string>();
        var only = new Dictionary<string, IReadOnlySet<string>>(StringComparer.Ordinal);
        string userFolder = config.Global.PluginsDirectory;
        if (BuiltInPlugins.FindFolder() is { } builtIn && Directory.Exists(builtIn))
        {
            folders.Add(builtIn);
            if (builtIn != userFolder)
            {
                only[builtIn] = BuiltInPlugins.Names;
            }
        }

        if (Directory.Exists(userFolder))
        {
            folders.Add(userFolder);
        }
        else if (config.Global.PluginsNamed)
        {
            errors.Add(new ConfigError(config.Global.PluginsSpot,
                $"the plugins folder {userFolder} does not exist; create it, fix `plugins` in [global], or remove the key to use only the built-in plugins"));
        }
        else
        {
            PluginLog.NoPluginsFolder(log, userFolder);
        }

        plugins.Resident = config.Global.ResidentPlugins.Keys.ToHashSet();
        foreach (PluginLoadException error in await plugins.LoadFoldersAsync(folders, only).ConfigureAwait(false))
        {
            problems.Add(error.Message);
        }

        foreach ((string name, SourceSpot spot) in config.Global.ResidentPlugins.Where(r => plugins.Plugins.All(p => p.Name != r.Key)))
        {
            errors.Add(new ConfigError(spot, $"`resident_plugins` names {name}, which no plugin folder holds"));
        }
    }

    /// <summary>Binds every listener and the admin endpoint, then starts accepting and checking.</summary>
    /// <exception cref="StartupException">Some address cannot be bound; nothing is left listening.</exception>
    public async Task StartAsync()
    {
        // Before the listeners' sockets, so that the runtime spreads the signals over its socket event threads.
        EndOfBatch.Start();
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

        if (AdminServer.IsConfigured(Config.Global))
        {
            try
            {
                _admin = CreateAdmin(Config);
            }
            catch (AdminBindException ex)
            {
                problems.Add(ex.Message);
            }
        }

        if (problems.Count > 0)
        {
            foreach (Listener listener in _listeners)
            {
                await listener.StopAcceptingAsync().ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
            }

            _admin?.Dispose();
            throw new StartupException(problems);
        }

        // Before the first stream: a server the last run left in maintenance must not take traffic meanwhile.
        RestoreServerState();
        foreach (Listener listener in _listeners)
        {
            listener.StartAccepting();
        }

        StartTelemetry();
        StickTables.StartSweeping(_loggers.CreateLogger("PluginProxy.Tables"));
        _ = Stores.CommitAsync(_startingStores); // nothing to close yet: it completes at once
        _admin?.Start();
        _health = new HealthChecker(Backends, _plugins, _loggers.CreateLogger("PluginProxy.Health"));
        _dns = new DnsRefresher(Backends, _resolver, _loggers.CreateLogger("PluginProxy.Dns"));
        Scripts.Reloaded = _ => RebuildPipelinesAsync();
        _plugins.Changed = RebuildPipelinesAsync;
        if (Config.Global.HotReload)
        {
            _watching = new FileWatchService(_loggers.CreateLogger("PluginProxy.Watch"));
            await Scripts.WatchAsync(_watching).ConfigureAwait(false);
            _plugins.Watch(_watching);
            WatchConfigFile(_watching);
            WatchCertificates(_materialized);
        }

        if (_sessions.WhyNoParking is { } whyNoParking)
        {
            AcceptLog.ParkingUnavailable(_loggers.CreateLogger("PluginProxy.Listener"), whyNoParking);
        }
        else
        {
            _sessions.Parking!.TrimLog = _loggers.CreateLogger("PluginProxy.Listener");
        }

        HostLog.Started(_log, _listeners.Count, Backends.Backends.Count, _plugins.Plugins.Count, _admin is null ? "" : $", admin on {_admin.Addresses}");
    }

    public Listener? FindListener(string name) => _listeners.Find(l => l.Name == name);

    /// <summary>Binds the admin endpoint (it accepts once started).</summary>
    private AdminServer CreateAdmin(ProxyConfig config) => new(this, config, _loggers);

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
        // The watches stop first: a reload one of them started may be waiting for the gate, and disposing them waits for it.
        if (_watching is not null)
        {
            await _watching.DisposeAsync().ConfigureAwait(false);
        }

        // A reload in progress finishes first, and one that starts later sees _stopped and does nothing: otherwise both
        // would stop the same health checks, and a reload could start checks and listeners after everything was released.
        await _reloadGate.WaitAsync().ConfigureAwait(false);
        try
        {
            await StopUnderGateAsync(grace).ConfigureAwait(false);
        }
        finally
        {
            _reloadGate.Release();
        }
    }

    private async Task StopUnderGateAsync(TimeSpan grace)
    {
        foreach (Listener listener in _listeners)
        {
            await listener.StopAcceptingAsync().ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
        }

        int running = _sessions.Count;
        if (running > 0)
        {
            HostLog.StoppingWaiting(_log, Units.Format(grace), running);
        }

        int closed = await _sessions.DrainAsync(grace).ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
        if (closed > 0)
        {
            HostLog.GraceOver(_log, closed);
        }

        if (_dns is not null)
        {
            await _dns.DisposeAsync().AsTask().ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
        }

        if (_health is not null)
        {
            await _health.DisposeAsync().AsTask().ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
            SaveServerState();
        }

        _admin?.Dispose();
        await ReleaseEverythingAsync().ConfigureAwait(false);
        await _materialized.RetireAsync().ConfigureAwait(false);
        HostLog.Stopped(_log);
    }

    private async Task ReleaseEverythingAsync()
    {
        foreach (Listener listener in _listeners)
        {
            listener.Pipeline.Retire();
        }

        await Scripts.DisposeAsync().ConfigureAwait(false);
        await _plugins.DisposeAsync().ConfigureAwait(false);
        _ownedAccessLog?.Dispose();
        StickTables.Dispose();
        await Stores.DisposeAsync().ConfigureAwait(false);
        StopTelemetry();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.Zero).ConfigureAwait(false);
        _sessions.Dispose();
    }
}
