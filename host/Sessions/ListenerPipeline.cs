using PluginProxy.Abstractions;
using PluginProxy.Host.Backends;
using PluginProxy.Host.Configuration;
using PluginProxy.Host.Plugins;
using PluginProxy.Host.Rules;
using PluginProxy.Host.Scripting;

namespace PluginProxy.Host.Sessions;

/// <summary>
/// What a listener's new sessions run with: the supervisor and analyzers resolved from plugins, the listener settings
/// and the backends, all of one configuration and plugin version. A session holds a reference from accept to close,
/// so the plugin versions it started with stay loaded until it ends; a reload builds a new pipeline and retires this one.
/// </summary>
internal sealed class ListenerPipeline : RefCounted
{
    private readonly RefCounted[] _held;

    private ListenerPipeline(ListenerConfig config, SupervisorLevel[] supervisors, IFlowAnalyzer[] requestAnalyzers,
        IFlowAnalyzer[] responseAnalyzers, BackendCatalog backends, Abstractions.Stores.IStores? stores, RefCounted[] held)
    {
        Stores = stores;
        Config = config;
        Supervisors = supervisors;
        RequestAnalyzers = requestAnalyzers;
        ResponseAnalyzers = responseAnalyzers;
        AfterResponseAnalyzers = responseAnalyzers[^config.AfterResponseCount..];
        Backends = backends;
        _held = held;
        Settings = config.Track.Count == 0 ? config.Settings
            : config.Settings with { Track = config.Track.Select(t => backends.Tables.Find(t.Name)).OfType<Abstractions.Tables.IStickTable>().ToArray() };
    }

    /// <summary>The plugin or script version the supervisor comes from: a session keeps it loaded for its whole life.</summary>
    public RefCounted SupervisorOwner => Supervisors[0].Owner;

    /// <summary>The configured supervisor, then the ones it stacks on (<see cref="IProtocolSupervisor.Next"/>), in run order.</summary>
    public SupervisorLevel[] Supervisors { get; }

    public ListenerConfig Config { get; }

    /// <summary>The listener's settings, with the stick tables it tracks (<c>track</c>) resolved.</summary>
    public ListenerSettings Settings { get; }

    public IProtocolSupervisor Supervisor => Supervisors[0].Supervisor;

    public IReadOnlyList<IFlowAnalyzer> RequestAnalyzers { get; }

    /// <summary>The response analyzers, then the after-response ones.</summary>
    public IReadOnlyList<IFlowAnalyzer> ResponseAnalyzers { get; }

    /// <summary>The last analyzers of <see cref="ResponseAnalyzers"/>: those of <c>after_response_analyzers</c>, also run on the proxy's own replies.</summary>
    public IReadOnlyList<IFlowAnalyzer> AfterResponseAnalyzers { get; }

    public BackendCatalog Backends { get; }

    /// <summary>The host's shared stores (always those of the running configuration), or null for a host without them.</summary>
    public Abstractions.Stores.IStores? Stores { get; }

    /// <summary>The plugin and script versions (and the listener's certificates) this pipeline keeps loaded.</summary>
    public IReadOnlyList<RefCounted> Versions => _held;

    /// <summary>
    /// Resolves the listener's supervisor and analyzers from plugins and scripts (names ending in .csx). Every name that
    /// nothing provides is reported at the place it was written; null is returned when there was any.
    /// </summary>
    public static ListenerPipeline? Build(ListenerConfig config, PluginCatalog plugins, ScriptCatalog scripts, BackendCatalog backends, List<ConfigError> errors)
    {
        int before = errors.Count;
        var held = new List<RefCounted>();
        IProtocolSupervisor? supervisor = null;
        RefCounted? supervisorOwner = null;
        if (ScriptCatalog.IsScript(config.Supervisor.Name))
        {
            if (AcquireScript(config.Supervisor, scripts, held) is { } script)
            {
                supervisor = script.Supervisor;
                supervisorOwner = script;
                if (supervisor is null)
                {
                    errors.Add(new ConfigError(config.Supervisor.Spot, $"{script.Path} is not a supervisor: as `supervisor`, a script must return an {nameof(IProtocolSupervisor)}"));
                }
            }
        }
        else if (plugins.TryAcquireSupervisor(config.Supervisor.Name, out LoadedPlugin? owner, out supervisor))
        {
            held.Add(owner!);
            supervisorOwner = owner;
        }
        else
        {
            errors.Add(new ConfigError(config.Supervisor.Spot, NotProvided("supervisor", config.Supervisor.Name, plugins.SupervisorNames)));
        }

        List<SupervisorLevel>? levels = supervisor is null ? null : Stack(config, new SupervisorLevel(config.Supervisor.Name, supervisor, supervisorOwner!), plugins, held, errors);
        Dictionary<string, HttpRuleSet> rules = RuleSets(config, levels, plugins.HostServices, errors);
        IFlowAnalyzer[] request = ResolveAnalyzers(config.RequestAnalyzers, ChannelDirection.Request, plugins, scripts, rules, held, errors);
        IFlowAnalyzer[] response = ResolveAnalyzers(config.ResponseAnalyzers, ChannelDirection.Response, plugins, scripts, rules, held, errors);
        if (supervisor is not null)
        {
            CheckOptions(config, config.Supervisor, supervisor, errors);
        }

        foreach ((Named name, IFlowAnalyzer analyzer) in config.RequestAnalyzers.Zip(request).Concat(config.ResponseAnalyzers.Zip(response)))
        {
            CheckOptions(config, name, analyzer, errors);
        }

        IEnumerable<(string, object)> components = (levels ?? []).Select(l => (l.Name, (object)l.Supervisor))
            .Concat(config.RequestAnalyzers.Zip(request).Concat(config.ResponseAnalyzers.Zip(response)).Select(a => (a.First.Name, (object)a.Second)));
        ListenerOptionsCheck.Run(config, components, stackKnown: levels is not null, errors);

        AcquireCertificates(config, held, errors);
        if (levels is null || request.Length != config.RequestAnalyzers.Count || response.Length != config.ResponseAnalyzers.Count || errors.Count > before)
        {
            foreach (RefCounted version in held)
            {
                version.Release();
            }

            return null;
        }

        request = WithRulesPlaced(request, rules, HttpRuleList.RequestKey);
        response = WithRulesPlaced(response, rules, HttpRuleList.ResponseKey);
        return new ListenerPipeline(config, levels.ToArray(), request, response, backends, plugins.HostServices.Stores, held.ToArray());
    }

    /// <summary>
    /// The analyzers of the listener's declarative rules (<c>[[listener.http_request]]</c>, <c>[[listener.http_response]]</c>),
    /// by key. A listener whose supervisor is <c>tcp</c> refuses them: it has no HTTP message for them to work on.
    /// </summary>
    private static Dictionary<string, HttpRuleSet> RuleSets(ListenerConfig config, List<SupervisorLevel>? levels, PluginHostServices host, List<ConfigError> errors)
    {
        var sets = new Dictionary<string, HttpRuleSet>(StringComparer.Ordinal);
        foreach (HttpRuleList? list in new[] { config.RequestRules, config.ResponseRules })
        {
            if (list is null)
            {
                continue;
            }

            if (levels is not null && levels[^1].Name == "tcp")
            {
                errors.Add(new ConfigError(list.Spot, $"[[listener.{list.Key}]] needs an HTTP supervisor (http, https): supervisor \"{config.Supervisor.Name}\" passes bytes, it has no HTTP message for rules to work on"));
                continue;
            }

            sets[list.Key] = new HttpRuleSet(list, config.Name, host.StickTables, host.LoggerFactory.CreateLogger("PluginProxy.Rules"));
        }

        return sets;
    }

    /// <summary>
    /// The analyzers with the rules of <paramref name="key"/> first, unless the listener placed them itself by listing
    /// <paramref name="key"/> (the http supervisor still runs its parser, http_lb_req or http_lb_resp, before them unless placed).
    /// </summary>
    private static IFlowAnalyzer[] WithRulesPlaced(IFlowAnalyzer[] analyzers, Dictionary<string, HttpRuleSet> rules, string key) =>
        rules.TryGetValue(key, out HttpRuleSet? set) && !analyzers.Contains(set) ? [set, .. analyzers] : analyzers;

    /// <summary>The listener's certificates stay loaded while a session of this pipeline may hand them to a handshake.</summary>
    private static void AcquireCertificates(ListenerConfig config, List<RefCounted> held, List<ConfigError> errors)
    {
        if (config.Settings.Tls?.Certificates is not RefCounted certificates)
        {
            return;
        }

        if (certificates.TryAcquire())
        {
            held.Add(certificates);
        }
        else
        {
            errors.Add(new ConfigError(config.TlsSpot ?? config.Spot, "the certificates of this listener were released: a newer configuration replaced them"));
        }
    }

    /// <summary>
    /// Follows <see cref="IProtocolSupervisor.Next"/> from the configured supervisor (https → http), taking a reference on
    /// each plugin version, and checks that <c>[listener.tls]</c> is there exactly when some supervisor terminates TLS.
    /// </summary>
    private static List<SupervisorLevel>? Stack(ListenerConfig config, SupervisorLevel top, PluginCatalog plugins, List<RefCounted> held, List<ConfigError> errors)
    {
        const int MaxLevels = 4;
        var levels = new List<SupervisorLevel> { top };
        while (levels[^1].Supervisor.Next is { } next)
        {
            if (levels.Count == MaxLevels || levels.Any(l => l.Name == next))
            {
                errors.Add(new ConfigError(config.Supervisor.Spot, $"supervisor \"{config.Supervisor.Name}\" stacks on {string.Join(" → ", levels.Select(l => $"\"{l.Name}\"").Append($"\"{next}\""))}: a loop or too deep"));
                return null;
            }

            if (!plugins.TryAcquireSupervisor(next, out LoadedPlugin? owner, out IProtocolSupervisor? below))
            {
                errors.Add(new ConfigError(config.Supervisor.Spot, $"supervisor \"{levels[^1].Name}\" runs supervisor \"{next}\" next, which no loaded plugin provides"));
                return null;
            }

            held.Add(owner!);
            levels.Add(new SupervisorLevel(next, below!, owner!));
        }

        bool terminatesTls = levels.Any(l => l.Supervisor.TerminatesTls);
        // A [listener.tls] that is written but could not be loaded was reported where it is written.
        if (terminatesTls && config.Settings.Tls is null && config.TlsSpot is null)
        {
            errors.Add(new ConfigError(config.Supervisor.Spot, $"supervisor \"{config.Supervisor.Name}\" terminates TLS: give the listener a [listener.tls] table with its certificates"));
            return null;
        }

        if (!terminatesTls && (config.Settings.Tls is not null || config.TlsFiles is not null))
        {
            errors.Add(new ConfigError(config.TlsSpot ?? config.Spot, $"[listener.tls] is only used by a supervisor that terminates TLS (\"https\"); supervisor \"{config.Supervisor.Name}\" does not"));
            return null;
        }

        return levels;
    }

    /// <summary>Lets a supervisor or analyzer that reads the listener's <c>options</c> refuse bad values, at the key.</summary>
    private static void CheckOptions(ListenerConfig config, Named name, object component, List<ConfigError> errors)
    {
        if (component is not IOptionsCheck check)
        {
            return;
        }

        try
        {
            foreach (OptionProblem problem in check.CheckOptions(config.Settings))
            {
                SourceSpot spot = config.OptionSpots.TryGetValue(problem.Key, out SourceSpot at) ? at : config.OptionsSpot;
                errors.Add(new ConfigError(spot, $"`options.{problem.Key}` (read by {name.Name}): {problem.Message}"));
            }
        }
        catch (Exception ex)
        {
            errors.Add(new ConfigError(config.OptionsSpot, $"{name.Name} failed while checking the listener's options: {ex.GetType().Name}: {ex.Message}"));
        }
    }

    /// <summary>
    /// The analyzers <paramref name="names"/> stand for, from plugins and scripts. A name nothing provides, or an analyzer
    /// made for the other channel (<see cref="IFlowAnalyzer.Direction"/>), is an error at its place.
    /// </summary>
    private static IFlowAnalyzer[] ResolveAnalyzers(IReadOnlyList<Named> names, ChannelDirection side, PluginCatalog plugins, ScriptCatalog scripts,
        Dictionary<string, HttpRuleSet> rules, List<RefCounted> held, List<ConfigError> errors)
    {
        var analyzers = new List<IFlowAnalyzer>(names.Count);
        foreach (Named name in names)
        {
            if (name.Name is HttpRuleList.RequestKey or HttpRuleList.ResponseKey)
            {
                if (rules.TryGetValue(name.Name, out HttpRuleSet? set))
                {
                    analyzers.Add(set);
                    if (WrongChannel(set, side) is { } misplaced)
                    {
                        errors.Add(new ConfigError(name.Spot, $"\"{name.Name}\" (the listener's rules) {misplaced}"));
                    }
                }
                else
                {
                    errors.Add(new ConfigError(name.Spot, $"\"{name.Name}\" places the listener's [[listener.{name.Name}]] rules among its analyzers, but it has none (or they have errors); add some, or remove the name"));
                }

                continue;
            }

            if (ResolveAnalyzer(name, plugins, scripts, held, errors) is not { } analyzer)
            {
                continue;
            }

            analyzers.Add(analyzer);
            if (WrongChannel(analyzer, side) is { } problem)
            {
                errors.Add(new ConfigError(name.Spot, $"analyzer \"{name.Name}\" {problem}"));
            }
        }

        return analyzers.ToArray();
    }

    private static IFlowAnalyzer? ResolveAnalyzer(Named name, PluginCatalog plugins, ScriptCatalog scripts, List<RefCounted> held, List<ConfigError> errors)
    {
        if (ScriptCatalog.IsScript(name.Name))
        {
            if (AcquireScript(name, scripts, held) is not { } script)
            {
                return null;
            }

            if (script.Analyzer is null)
            {
                errors.Add(new ConfigError(name.Spot, $"{script.Path} is not an analyzer: it returns a supervisor"));
            }

            return script.Analyzer;
        }

        if (plugins.TryAcquireAnalyzer(name.Name, out LoadedPlugin? owner, out IFlowAnalyzer? provided))
        {
            held.Add(owner!);
            return provided;
        }

        errors.Add(new ConfigError(name.Spot, NotProvided("analyzer", name.Name, plugins.AnalyzerNames)));
        return null;
    }

    /// <summary>Why <paramref name="analyzer"/> cannot be listed for the <paramref name="side"/> channel, or null when it can.</summary>
    private static string? WrongChannel(IFlowAnalyzer analyzer, ChannelDirection side)
    {
        ChannelDirection? made;
        try
        {
            made = analyzer.Direction;
        }
        catch (Exception ex)
        {
            return $"failed to say which channel it works on: {ex.GetType().Name}: {ex.Message}";
        }

        return made is { } direction && direction != side
            ? $"works on the {Lower(direction)} channel: list it in {Lower(direction)}_analyzers, not in {Lower(side)}_analyzers"
            : null;

        static string Lower(ChannelDirection direction) => direction == ChannelDirection.Request ? "request" : "response";
    }
    /// <summary>The current version of a script, with a reference taken (the catalog loaded it and reported its errors).</summary>
    private static LoadedScript? AcquireScript(Named name, ScriptCatalog scripts, List<RefCounted> held)
    {
        if (!scripts.TryAcquire(scripts.Resolve(name.Name), out LoadedScript? script))
        {
            return null;
        }

        held.Add(script!);
        return script;
    }

    private static string NotProvided(string what, string name, IReadOnlyList<string> available)
    {
        string? suggestion = TableReader.Suggest(name, available);
        string hint = available.Count == 0 ? "no plugin provides any; check `plugins` in [global] and that the plugins are built"
            : suggestion is not null ? $"did you mean \"{suggestion}\"?"
            : $"plugins provide: {string.Join(", ", available.Select(a => $"\"{a}\""))}";
        return $"{what} \"{name}\" is not provided by any loaded plugin; {hint}";
    }

    /// <summary>
    /// Names an analyzer of this pipeline for logs: its name and the plugin version or script it comes from (also for one
    /// a supervisor runs without the listener listing it, such as http_lb_req, found among its plugin's analyzers).
    /// </summary>
    public string Describe(IFlowAnalyzer analyzer)
    {
        foreach (RefCounted version in _held)
        {
            if (version is LoadedScript script && ReferenceEquals(script.Analyzer, analyzer))
            {
                return script.ToString();
            }

            if (version is LoadedPlugin plugin)
            {
                foreach ((string name, IFlowAnalyzer provided) in plugin.Analyzers)
                {
                    if (ReferenceEquals(provided, analyzer))
                    {
                        return $"{name} (plugin {plugin.Name} version {plugin.Generation})";
                    }
                }
            }
        }

        return analyzer.ToString() ?? analyzer.GetType().Name;
    }

    protected override void OnReleased()
    {
        foreach (RefCounted version in _held)
        {
            version.Release();
        }
    }
}

/// <summary>One supervisor of a listener's stack, with the plugin or script version it comes from.</summary>
internal sealed record SupervisorLevel(string Name, IProtocolSupervisor Supervisor, RefCounted Owner);
