using Microsoft.Extensions.Logging;
using PluginProxy.Host.Accept;
using PluginProxy.Host.Backends;
using PluginProxy.Host.Configuration;
using PluginProxy.Host.Scripting;
using PluginProxy.Host.Sessions;
using PluginProxy.Host.Watching;

using PluginProxy.Host.Stores;

namespace PluginProxy.Host;

/// <summary>Reloads while traffic flows: the configuration file, and the pipelines when a plugin or script changes; one at a time.</summary>
internal sealed partial class ProxyHost
{
    /// <summary>
    /// Loads the configuration file again and applies it while traffic flows: plugin folders are looked at again (a
    /// plugin dropped in becomes usable), new scripts are compiled, backends are rebuilt (servers present in both
    /// configurations keep their state), listeners whose sockets are unchanged get a new pipeline (running streams
    /// finish on the old one), others are replaced, removed ones stop accepting and drain. Every new socket is bound
    /// before any old one stops. A configuration with any error, or with an address that cannot be bound, is refused
    /// as a whole and the running one stays untouched.
    /// </summary>
    /// <returns>The problems found; empty when the new configuration is running.</returns>
    public async Task<IReadOnlyList<string>> ReloadConfigurationAsync()
    {
        await _reloadGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_stopped)
            {
                return [$"{Config.FilePath}: not reloaded, the proxy is stopping"];
            }

            return await ReloadUnderGateAsync().ConfigureAwait(false);
        }
        finally
        {
            _reloadGate.Release();
        }
    }

    /// <summary>Builds everything the configuration file names now, binds its new sockets, and applies it if all of that worked.</summary>
    private async Task<IReadOnlyList<string>> ReloadUnderGateAsync()
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

        if (ChangesNeedingRestart(next) is { Count: > 0 } restart)
        {
            return Refuse(restart);
        }

        var errors = new List<ConfigError>();
        MaterializedConfig materialized = ConfigMaterializer.Materialize(next, errors);
        next = materialized.Config;
        ReloadMaterialized?.Invoke(materialized);
        await _plugins.RescanAsync().ConfigureAwait(false);
        await Scripts.LoadAllAsync(ScriptCatalog.NamedBy(next), errors).ConfigureAwait(false);
        var servers = new ServerCarryOver(Backends);
        StoreSet stores = Stores.Prepare(next.Stores);
        Tables.StickTableSet tables = StickTables.Prepare(next.StickTables, stores);
        var backends = new BackendCatalog(next.Backends, servers, tables, _loggers.CreateLogger("PluginProxy.Backends"));
        NameResolver resolver = next.Global.Dns.Same(_resolver.Settings) ? _resolver : new NameResolver(next.Global.Dns);
        await DnsRefresher.ResolveNewAsync(backends, resolver, _loggers.CreateLogger("PluginProxy.Dns"), errors).ConfigureAwait(false);
        var pipelines = new List<ListenerPipeline>();
        foreach (ListenerConfig listenerConfig in next.Listeners)
        {
            if (ListenerPipeline.Build(listenerConfig, _plugins, Scripts, backends, errors) is { } pipeline)
            {
                pipelines.Add(pipeline);
            }
        }

        // A new access log target is opened while the reload can still be refused.
        Logging.LogChannel? accessLogTarget = _ownedAccessLog?.Prepare(next, errors);
        if (errors.Count > 0)
        {
            pipelines.ForEach(p => p.Retire());
            accessLogTarget?.Dispose();
            materialized.Dispose();
            await Stores.AbandonAsync(stores).ConfigureAwait(false);
            return Refuse(errors.Select(e => e.ToString()).ToList());
        }

        var plan = new ReloadPlan(_listeners, pipelines, p => new Listener(p.Config, p, _sessions, _loggers, _ownedAccessLog),
            (_admin, Config.Global), next, CreateAdmin, _log);
        if (plan.Bind() is { Count: > 0 } unbound)
        {
            plan.Abandon();
            accessLogTarget?.Dispose();
            materialized.Dispose();
            await Stores.AbandonAsync(stores).ConfigureAwait(false);
            return Refuse(unbound);
        }

        _ownedAccessLog?.Apply(next, accessLogTarget);
        _resolver = resolver;
        await ApplyAsync(materialized, plan, backends, servers, stores).ConfigureAwait(false);
        return [];
    }

    /// <summary>Puts a configuration whose pipelines are built and sockets bound in place; nothing can fail any more.</summary>
    private async Task ApplyAsync(MaterializedConfig materialized, ReloadPlan plan, BackendCatalog backends, ServerCarryOver servers, StoreSet stores)
    {
        ProxyConfig next = materialized.Config;
        await Stores.CommitAsync(stores).ConfigureAwait(false);
        StickTables.Commit(backends.Tables, next.StickTables);
        await SwapBackendsAsync(backends, servers).ConfigureAwait(false);
        (_listeners, _admin) = await plan.ApplyAsync().ConfigureAwait(false);
        Config = next;
        await Scripts.RetainOnlyAsync(next).ConfigureAwait(false);
        if (Config.Global.HotReload)
        {
            WatchCertificates(materialized);
        }

        // Sessions accepted before keep the certificates they hold (released when the last of them ends); only the watching stops.
        (_materialized, MaterializedConfig previous) = (materialized, _materialized);
        await previous.RetireAsync().ConfigureAwait(false);
        HostLog.Reloaded(_log, next.FilePath, _listeners.Count, plan, Backends.Backends.Count, servers.Kept);
        NoteReload("config", Path.GetFileName(next.FilePath), true);
    }

    private List<string> ChangesNeedingRestart(ProxyConfig next)
    {
        var problems = new List<string>();
        if (next.Global.ScriptsDirectory != Config.Global.ScriptsDirectory || next.Global.PluginsDirectory != Config.Global.PluginsDirectory)
        {
            problems.Add($"{Config.FilePath}: changing `plugins` or `scripts` in [global] needs a restart");
        }

        if (!next.Global.ResidentPlugins.Keys.ToHashSet().SetEquals(Config.Global.ResidentPlugins.Keys))
        {
            problems.Add($"{Config.FilePath}: changing `resident_plugins` in [global] needs a restart");
        }

        if (next.Global.Otlp != Config.Global.Otlp || next.Global.Tracing != Config.Global.Tracing || next.Global.TraceSampleRatio != Config.Global.TraceSampleRatio)
        {
            problems.Add($"{Config.FilePath}: changing `otlp_endpoint`, `otlp_protocol`, `otlp_interval`, `tracing` or `trace_sample_ratio` in [global] needs a restart");
        }

        if (next.Global.HotReload != Config.Global.HotReload)
        {
            problems.Add($"{Config.FilePath}: changing `hot_reload` needs a restart");
        }

        return problems;
    }

    /// <summary>
    /// Puts the new backends in place. The health checks of the old ones stop first, so that no check result of the old
    /// configuration lands afterwards; the new checks carry on where each kept server's checks stood.
    /// </summary>
    private async Task SwapBackendsAsync(BackendCatalog next, ServerCarryOver servers)
    {
        IReadOnlyDictionary<Server, CheckProgress>? progress = null;
        if (_health is not null)
        {
            await _health.DisposeAsync().AsTask().ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
            progress = _health.Progress;
        }

        if (_dns is not null)
        {
            await _dns.DisposeAsync().AsTask().ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
        }

        servers.Commit();
        Backends = next;
        _health = new HealthChecker(next, _plugins, _loggers.CreateLogger("PluginProxy.Health"), progress);
        _dns = new DnsRefresher(next, _resolver, _loggers.CreateLogger("PluginProxy.Dns"));
        SaveServerState();
    }

    /// <summary>With hot reload, a changed certificate or key file is loaded again (and refused with a log line if broken).</summary>
    private void WatchCertificates(MaterializedConfig materialized)
    {
        if (_watching is not null)
        {
            materialized.WatchCertificates(_watching, _loggers.CreateLogger("PluginProxy.Tls"));
        }
    }

    private IReadOnlyList<string> Refuse(List<string> problems)
    {
        foreach (string problem in problems)
        {
            HostLog.ReloadRefused(_log, problem);
        }

        NoteReload("config", Path.GetFileName(Config.FilePath), false, problems.Count > 0 ? problems[0] : null);

        return problems;
    }

    /// <summary>Every file the proxy watches with hot reload (scripts, plugin folders, this configuration, certificates).</summary>
    private FileWatchService? _watching;

    /// <summary>With hot reload, a change to the configuration file reloads it (as SIGHUP does), after 300 ms of quiet.</summary>
    private void WatchConfigFile(FileWatchService watching) =>
        watching.Watch("configuration", TimeSpan.FromMilliseconds(300), _ => ReloadConfigurationAsync()).Follow([Config.FilePath]);

    /// <summary>
    /// Builds every listener's pipeline again from the current plugin and script versions and swaps it in: new streams
    /// use it, streams in progress finish on the previous one, which is released when the last of them ends.
    /// </summary>
    public async Task RebuildPipelinesAsync()
    {
        await _reloadGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_stopped)
            {
                return;
            }

            foreach (Listener listener in _listeners)
            {
                var errors = new List<ConfigError>();
                if (ListenerPipeline.Build(listener.Config, _plugins, Scripts, Backends, errors) is { } pipeline)
                {
                    listener.SwapPipeline(pipeline).Retire();
                }
                else
                {
                    HostLog.PipelineKept(_log, listener.Name, string.Join("; ", errors));
                }
            }
        }
        finally
        {
            _reloadGate.Release();
        }
    }
}
