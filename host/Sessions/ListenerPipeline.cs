using PluginProxy.Abstractions;
using PluginProxy.Host.Backends;
using PluginProxy.Host.Configuration;
using PluginProxy.Host.Plugins;

namespace PluginProxy.Host.Sessions;

/// <summary>
/// What a listener's new sessions run with: the supervisor and analyzers resolved from plugins, the listener settings
/// and the backends, all of one configuration and plugin version. A session holds a reference from accept to close,
/// so the plugin versions it started with stay loaded until it ends; a reload builds a new pipeline and retires this one.
/// </summary>
internal sealed class ListenerPipeline : RefCounted
{
    private readonly LoadedPlugin[] _plugins;

    private ListenerPipeline(ListenerConfig config, IProtocolSupervisor supervisor, IFlowAnalyzer[] requestAnalyzers,
        IFlowAnalyzer[] responseAnalyzers, BackendCatalog backends, LoadedPlugin[] plugins)
    {
        Config = config;
        Supervisor = supervisor;
        RequestAnalyzers = requestAnalyzers;
        ResponseAnalyzers = responseAnalyzers;
        Backends = backends;
        _plugins = plugins;
    }

    public ListenerConfig Config { get; }

    public ListenerSettings Settings => Config.Settings;

    public IProtocolSupervisor Supervisor { get; }

    public IReadOnlyList<IFlowAnalyzer> RequestAnalyzers { get; }

    public IReadOnlyList<IFlowAnalyzer> ResponseAnalyzers { get; }

    public BackendCatalog Backends { get; }

    public IReadOnlyList<LoadedPlugin> Plugins => _plugins;

    /// <summary>
    /// Resolves the listener's supervisor and analyzers. Every name that nothing provides is reported at the place
    /// it was written; null is returned when there was any.
    /// </summary>
    public static ListenerPipeline? Build(ListenerConfig config, PluginCatalog plugins, BackendCatalog backends, List<ConfigError> errors)
    {
        var held = new List<LoadedPlugin>();
        IProtocolSupervisor? supervisor = null;
        if (IsScript(config.Supervisor, errors))
        {
            // Reported by IsScript.
        }
        else if (plugins.TryAcquireSupervisor(config.Supervisor.Name, out LoadedPlugin? owner, out supervisor))
        {
            held.Add(owner!);
        }
        else
        {
            errors.Add(new ConfigError(config.Supervisor.Spot, NotProvided("supervisor", config.Supervisor.Name, plugins.SupervisorNames)));
        }

        IFlowAnalyzer[] request = ResolveAnalyzers(config.RequestAnalyzers, plugins, held, errors);
        IFlowAnalyzer[] response = ResolveAnalyzers(config.ResponseAnalyzers, plugins, held, errors);
        if (supervisor is null || request.Length != config.RequestAnalyzers.Count || response.Length != config.ResponseAnalyzers.Count)
        {
            foreach (LoadedPlugin plugin in held)
            {
                plugin.Release();
            }

            return null;
        }

        return new ListenerPipeline(config, supervisor, request, response, backends, held.ToArray());
    }

    private static IFlowAnalyzer[] ResolveAnalyzers(IReadOnlyList<Named> names, PluginCatalog plugins, List<LoadedPlugin> held, List<ConfigError> errors)
    {
        var analyzers = new List<IFlowAnalyzer>(names.Count);
        foreach (Named name in names)
        {
            if (IsScript(name, errors))
            {
                continue;
            }

            if (plugins.TryAcquireAnalyzer(name.Name, out LoadedPlugin? owner, out IFlowAnalyzer? analyzer))
            {
                held.Add(owner!);
                analyzers.Add(analyzer!);
            }
            else
            {
                errors.Add(new ConfigError(name.Spot, NotProvided("analyzer", name.Name, plugins.AnalyzerNames)));
            }
        }

        return analyzers.ToArray();
    }

    private static bool IsScript(Named name, List<ConfigError> errors)
    {
        if (!name.Name.EndsWith(".csx", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        errors.Add(new ConfigError(name.Spot, $"\"{name.Name}\" is a C# script; .csx scripts are not supported by this version yet: use a plugin's name"));
        return true;
    }

    private static string NotProvided(string what, string name, IReadOnlyList<string> available)
    {
        string? suggestion = TableReader.Suggest(name, available);
        string hint = available.Count == 0 ? "no plugin provides any; check `plugins` in [global] and that the plugins are built"
            : suggestion is not null ? $"did you mean \"{suggestion}\"?"
            : $"plugins provide: {string.Join(", ", available.Select(a => $"\"{a}\""))}";
        return $"{what} \"{name}\" is not provided by any loaded plugin; {hint}";
    }

    protected override void OnReleased()
    {
        foreach (LoadedPlugin plugin in _plugins)
        {
            plugin.Release();
        }
    }
}
