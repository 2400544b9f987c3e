using System.Net;
using PluginProxy.Abstractions;
using Tomlyn.Parsing;
using Tomlyn.Syntax;

using PluginProxy.Host.Metrics;

namespace PluginProxy.Host.Configuration;

/// <summary>
/// Step 1 of loading a configuration: turns proxy.toml into a checked <see cref="ProxyConfig"/>, collecting every error
/// with its <c>file:line:column</c> rather than stopping at the first. Pure: nothing but proxy.toml is read — the
/// certificates, CA files and admin token it names are loaded by step 2, <see cref="ConfigMaterializer"/>. References to
/// plugins are checked later, once plugins are loaded.
/// </summary>
internal static class ConfigLoader
{
    /// <summary>Parses a configuration that has no error (its files are not loaded: see <see cref="ConfigMaterializer"/>).</summary>
    /// <exception cref="ConfigException">The file cannot be read or has errors (all of them, in file order).</exception>
    public static ProxyConfig Load(string path)
    {
        var errors = new List<ConfigError>();
        ProxyConfig? config = Read(path, errors);
        return errors.Count == 0 ? config! : throw new ConfigException(InFileOrder(errors));
    }

    public static ProxyConfig Parse(string text, string fileName, string baseDirectory)
    {
        var errors = new List<ConfigError>();
        ProxyConfig? config = Parse(text, fileName, baseDirectory, errors);
        return errors.Count == 0 ? config! : throw new ConfigException(InFileOrder(errors));
    }

    /// <summary>
    /// Reads the file, adding every error to <paramref name="errors"/>, and returns what could be bound even when there
    /// were errors (so that <c>check</c> can go on to resolve plugins and scripts and report their errors in the same
    /// pass), or null when the file cannot be read or is not valid TOML. A configuration with errors is never run.
    /// </summary>
    public static ProxyConfig? Read(string path, List<ConfigError> errors)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            errors.Add(new ConfigError(new SourceSpot(path, 1, 1), $"cannot read the configuration: {ex.Message}"));
            return null;
        }

        string baseDirectory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        return Parse(text, path, baseDirectory, errors);
    }

    /// <summary>Like <see cref="Read"/>, from text.</summary>
    public static ProxyConfig? Parse(string text, string fileName, string baseDirectory, List<ConfigError> errors)
    {
        DocumentSyntax document = SyntaxParser.Parse(text, fileName, true);
        if (document.HasErrors)
        {
            foreach (DiagnosticMessage message in document.Diagnostics)
            {
                if (message.Kind == DiagnosticMessageKind.Error)
                {
                    var spot = new SourceSpot(fileName, message.Span.Start.Line + 1, message.Span.Start.Column + 1);
                    errors.Add(new ConfigError(spot, $"TOML syntax: {message.Message}"));
                }
            }

            return null;
        }

        TomlTableNode tree = TomlTreeBuilder.Build(document, fileName);
        return Bind(new TableReader(tree, "the top level", errors), fileName, baseDirectory);
    }

    /// <summary>Errors sorted as a reader meets them: the configuration file's by position, then other files' (scripts).</summary>
    public static List<ConfigError> InFileOrder(IEnumerable<ConfigError> errors, string? configFile = null) =>
        errors.OrderBy(e => configFile is null || e.Where.File == configFile ? 0 : 1).ThenBy(e => e.Where.File, StringComparer.Ordinal)
            .ThenBy(e => e.Where.Line).ThenBy(e => e.Where.Column).ToList();

    private static ProxyConfig Bind(TableReader root, string fileName, string baseDirectory)
    {
        TableReader? globalTable = root.SubTable("global", "[global]");
        TableReader? defaultsTable = root.SubTable("defaults", "[defaults]");
        List<TableReader> listenerTables = root.TableArray("listener", "[[listener]]");
        List<TableReader> backendTables = root.TableArray("backend", "[[backend]]");
        List<TableReader> stickTables = root.TableArray("stick_table", "[[stick_table]]");
        List<TableReader> storeTables = root.TableArray("store", "[[store]]");
        root.RejectUnknownKeys(ConfigKeys.Root);

        GlobalConfig global = BindGlobal(globalTable, root, baseDirectory);
        ConfigDefaults defaults = ConfigDefaults.Bind(defaultsTable);

        var backends = new List<BackendConfig>();
        foreach (TableReader table in backendTables)
        {
            if (BackendTables.Bind(table, defaults, baseDirectory) is { } backend)
            {
                if (backends.Find(b => b.Name == backend.Name) is { } first)
                {
                    table.Error(table.SpotOf("name"), $"backend \"{backend.Name}\" is already defined at {first.Spot}; backend names must be unique");
                }
                else
                {
                    backends.Add(backend);
                }
            }
        }

        var listeners = new List<ListenerConfig>();
        var backendReferences = new List<(string Listener, Named Backend)>();
        foreach (TableReader table in listenerTables)
        {
            if (ListenerTables.Bind(table, defaults, backendReferences, baseDirectory) is { } listener)
            {
                if (listener.Name.Length > 0 && listeners.Find(l => l.Name == listener.Name) is { } first)
                {
                    table.Error(table.SpotOf("name"), $"listener \"{listener.Name}\" is already defined at {first.Spot}; listener names must be unique");
                }
                else
                {
                    listeners.Add(listener);
                }
            }
        }

        if (listenerTables.Count == 0)
        {
            root.Error(root.Spot, "no [[listener]] is defined; add one, for example: [[listener]] name = \"web\" bind = [\"127.0.0.1:8080\"] supervisor = \"tcp\" backend = \"app\"");
        }

        CheckBackendReferences(root, backendReferences, backends);
        List<StickTableConfig> tables = stickTables.Select(PersistenceKeys.BindTable).OfType<StickTableConfig>().ToList();
        List<Stores.StoreConfig> stores = storeTables.Select(t => StoreKeys.Bind(t, baseDirectory)).OfType<Stores.StoreConfig>().ToList();
        StoreKeys.CheckUnique(root, stores);
        PersistenceKeys.CheckReferences(root, tables, listeners, backends, stores);
        CheckBindConflicts(root, listeners);

        return new ProxyConfig
        {
            FilePath = fileName,
            BaseDirectory = baseDirectory,
            Global = global,
            Listeners = stores.Count == 0 ? listeners
                : listeners.Select(l => l with { Settings = l.Settings with { StoreNames = stores.Select(s => s.Name).ToArray() } }).ToList(),
            Backends = backends,
            StickTables = tables,
            Stores = stores,
        };
    }

    /// <summary>
    /// Every backend a listener names must exist, and every backend must be named by some listener (even one that has
    /// errors of its own, so that one mistake is not reported twice).
    /// </summary>
    private static void CheckBackendReferences(TableReader root, List<(string Listener, Named Backend)> references, List<BackendConfig> backends)
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach ((string listener, Named reference) in references)
        {
            used.Add(reference.Name);
            if (backends.Find(b => b.Name == reference.Name) is null)
            {
                string hint = TableReader.UndefinedHint(reference.Name, backends.Select(b => b.Name).ToArray(), "backends", "no [[backend]] is defined");
                root.Error(reference.Spot, $"listener \"{listener}\" names backend \"{reference.Name}\", which is not defined; {hint}");
            }
        }

        foreach (BackendConfig backend in backends)
        {
            if (!used.Contains(backend.Name))
            {
                root.Error(backend.Spot, $"backend \"{backend.Name}\" is not reachable: no listener names it in `backend`, a route or `use_backends`; remove it or point a listener at it");
            }
        }
    }

    private static void CheckBindConflicts(TableReader root, List<ListenerConfig> listeners)
    {
        var seen = new Dictionary<IPEndPoint, (string Listener, SourceSpot Spot)>();
        foreach (ListenerConfig listener in listeners)
        {
            foreach (BindAddress bind in listener.Binds)
            {
                if (bind.EndPoint.Port == 0)
                {
                    continue; // Ephemeral ports never collide.
                }

                if (seen.TryGetValue(bind.EndPoint, out var first))
                {
                    root.Error(bind.Spot, $"{EndPoints.Format(bind.EndPoint)} is already bound by listener \"{first.Listener}\" at {first.Spot}");
                }
                else
                {
                    seen[bind.EndPoint] = (listener.Name, bind.Spot);
                }
            }
        }
    }

    private static GlobalConfig BindGlobal(TableReader? table, TableReader root, string baseDirectory)
    {
        if (table is null)
        {
            return new GlobalConfig
            {
                PluginsDirectory = Path.Combine(baseDirectory, "plugins", "bin"),
                PluginsSpot = root.Spot,
                ScriptsDirectory = Path.Combine(baseDirectory, "scripts"),
                ScriptCacheDirectory = Scripting.ScriptCache.DefaultDirectory(),
                HotReload = false,
            };
        }

        SourceSpot pluginsSpot = table.SpotOf("plugins");
        string plugins = table.String("plugins", what: "a folder path") ?? Path.Combine("plugins", "bin");
        string scripts = table.String("scripts", what: "a folder path") ?? "scripts";
        string? scriptCache = table.String("script_cache", what: "a folder path");
        bool hotReload = table.Bool("hot_reload") ?? false;
        IPEndPoint? admin = null;
        SourceSpot? adminSpot = null;
        if (table.SpottedString("admin", what: "an address such as \"127.0.0.1:8404\"") is { } adminText)
        {
            adminSpot = adminText.Spot;
            if (EndPoints.TryParse(adminText.Value, forBind: true, out admin, out string? problem) is false)
            {
                table.Error(adminText.Spot, $"`admin`: {problem}");
            }
        }

        string? adminSocket = AdminKeys.ReadSocket(table, baseDirectory);
        (string Path, SourceSpot Spot)? adminTokenFile = AdminKeys.ReadTokenFile(table, baseDirectory);
        string? serverStateFile = AdminKeys.ReadServerStateFile(table, baseDirectory);
        OtlpTarget? otlp = TelemetryKeys.ReadOtlp(table);
        bool tracing = table.Bool("tracing") ?? false;
        if (tracing && otlp is null)
        {
            table.Error(table.SpotOf("tracing"), "`tracing` exports spans by OTLP: set `otlp_endpoint` too (for example \"http://127.0.0.1:4318\")");
        }
        double sampleRatio = table.Ratio("trace_sample_ratio") ?? 1.0;
        TimeSpan grace = table.Duration("grace", TimeSpan.Zero) ?? TimeSpan.FromSeconds(10);
        AccessLogConfig accessLog = AccessLogKeys.ReadGlobal(table, baseDirectory);
        DnsSettings dns = DnsKeys.ReadGlobal(table);
        var resident = new Dictionary<string, SourceSpot>(StringComparer.Ordinal);
        foreach ((string name, SourceSpot spot) in table.StringList("resident_plugins", what: "a list of plugin names") ?? [])
        {
            if (name.Length == 0 || name.IndexOfAny(['/', '\\']) >= 0)
            {
                table.Error(spot, $"`resident_plugins`: \"{name}\" is not a plugin name (the name of a plugin's folder, as \"PluginProxy.Http\")");
            }
            else
            {
                resident[name] = spot;
            }
        }

        table.RejectUnknownKeys(ConfigKeys.Global);
        return new GlobalConfig
        {
            PluginsDirectory = Path.GetFullPath(plugins, baseDirectory),
            PluginsSpot = pluginsSpot,
            PluginsNamed = table.Has("plugins"),
            ScriptsDirectory = Path.GetFullPath(scripts, baseDirectory),
            ScriptCacheDirectory = scriptCache is null ? Scripting.ScriptCache.DefaultDirectory() : Path.GetFullPath(scriptCache, baseDirectory),
            HotReload = hotReload,
            Admin = admin,
            AdminSpot = adminSpot,
            AdminSocket = adminSocket,
            AdminTokenFile = adminTokenFile,
            ServerStateFile = serverStateFile,
            Otlp = otlp,
            Tracing = tracing,
            TraceSampleRatio = sampleRatio,
            Grace = grace,
            AccessLog = accessLog,
            ResidentPlugins = resident,
            Dns = dns,
        };
    }
}
