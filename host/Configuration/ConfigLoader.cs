using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;
using PluginProxy.Host.Tls;
using Tomlyn.Parsing;
using Tomlyn.Syntax;

namespace PluginProxy.Host.Configuration;

/// <summary>
/// Turns proxy.toml into a <see cref="ProxyConfig"/>, collecting every error with its <c>file:line:column</c>
/// rather than stopping at the first. References to plugins are checked later, once plugins are loaded.
/// </summary>
internal static class ConfigLoader
{
    /// <summary>Loads a configuration that has no error.</summary>
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
        root.RejectUnknownKeys(ConfigKeys.Root);

        GlobalConfig global = BindGlobal(globalTable, root, baseDirectory);
        Defaults defaults = BindDefaults(defaultsTable);

        var backends = new List<BackendConfig>();
        foreach (TableReader table in backendTables)
        {
            if (BindBackend(table, defaults, baseDirectory) is { } backend)
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
            if (BindListener(table, defaults, backendReferences, baseDirectory) is { } listener)
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
        CheckBindConflicts(root, listeners);

        return new ProxyConfig
        {
            FilePath = fileName,
            BaseDirectory = baseDirectory,
            Global = global,
            Listeners = listeners,
            Backends = backends,
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
                string? suggestion = TableReader.Suggest(reference.Name, backends.Select(b => b.Name));
                string hint = backends.Count == 0 ? "no [[backend]] is defined"
                    : suggestion is not null ? $"did you mean \"{suggestion}\"?"
                    : $"defined backends: {string.Join(", ", backends.Select(b => $"\"{b.Name}\""))}";
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
        string? adminToken = AdminKeys.ReadToken(table, baseDirectory);
        TimeSpan grace = table.Duration("grace", TimeSpan.Zero) ?? TimeSpan.FromSeconds(10);
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
            AdminToken = adminToken,
            Grace = grace,
        };
    }

    /// <summary>The values of [defaults], before listeners and backends override them.</summary>
    private sealed class Defaults
    {
        public ProxyTimeouts Timeouts { get; init; } = new();
        public int MaxRequestHead { get; init; } = 16384;
        public long? MaxRequestBody { get; init; }
        public int BufferSize { get; init; } = 65536;
        public int MaxConn { get; init; } = 10000;
        public int? Backlog { get; init; }
        public int Retries { get; init; } = 3;
        public BalanceAlgorithm Balance { get; init; } = BalanceAlgorithm.RoundRobin;
        public HttpReuse HttpReuse { get; init; } = HttpReuse.Safe;
    }

    private static Defaults BindDefaults(TableReader? table)
    {
        if (table is null)
        {
            return new Defaults();
        }

        var builtIn = new Defaults();
        ProxyTimeouts timeouts = ReadTimeouts(table, builtIn.Timeouts, ConfigKeys.ListenerTimeouts);
        timeouts = ReadTimeouts(table, timeouts, ConfigKeys.BackendTimeouts);
        var defaults = new Defaults
        {
            Timeouts = timeouts,
            MaxRequestHead = (int)(table.Size("max_request_head", 256, 1 << 20) ?? builtIn.MaxRequestHead),
            MaxRequestBody = table.Size("max_request_body", 0, long.MaxValue),
            BufferSize = (int)(table.Size("buffer_size", 1024, 16 << 20) ?? builtIn.BufferSize),
            MaxConn = (int)(table.Integer("maxconn", 1, 1_000_000) ?? builtIn.MaxConn),
            Backlog = (int?)table.Integer("backlog", 1, 65535),
            Retries = (int)(table.Integer("retries", 0, 100) ?? builtIn.Retries),
            Balance = ReadBalance(table) ?? builtIn.Balance,
            HttpReuse = ReadHttpReuse(table) ?? builtIn.HttpReuse,
        };
        table.RejectUnknownKeys(ConfigKeys.Defaults);
        return defaults;
    }

    private static HttpReuse? ReadHttpReuse(TableReader table)
    {
        if (table.SpottedString("http_reuse", what: "safe or always") is not { } reuse)
        {
            return null;
        }

        if (ConfigKeys.HttpReuseNames.TryGetValue(reuse.Value, out HttpReuse value))
        {
            return value;
        }

        table.Error(reuse.Spot, $"`http_reuse` \"{reuse.Value}\" is unknown; use safe (only requests that can be sent again go on idle connections) or always");
        return null;
    }

    private static BalanceAlgorithm? ReadBalance(TableReader table)
    {
        if (table.SpottedString("balance", what: "one of roundrobin, leastconn, source, uri, random") is not { } balance)
        {
            return null;
        }

        if (ConfigKeys.BalanceNames.TryGetValue(balance.Value, out BalanceAlgorithm algorithm))
        {
            return algorithm;
        }

        table.Error(balance.Spot, $"`balance` \"{balance.Value}\" is unknown; use one of {string.Join(", ", ConfigKeys.BalanceNames.Keys)}");
        return null;
    }

    private static ProxyTimeouts ReadTimeouts(TableReader table, ProxyTimeouts inherited, string[] keys)
    {
        ProxyTimeouts result = inherited;
        foreach (string key in keys)
        {
            if (table.Duration(key) is not { } value)
            {
                continue;
            }

            result = key switch
            {
                "timeout_connect" => result with { Connect = value },
                "timeout_client" => result with { Client = value },
                "timeout_server" => result with { Server = value },
                "timeout_tunnel" => result with { Tunnel = value },
                "timeout_request" => result with { Request = value },
                "timeout_keep_alive" => result with { KeepAlive = value },
                "timeout_client_hs" => result with { ClientHandshake = value },
                _ => result,
            };
        }

        return result;
    }

    /// <summary>Reports a timeout written on the wrong side (a server timeout in a listener), which would otherwise be ignored.</summary>
    private static void RejectMisplacedTimeouts(TableReader table, string[] wrongSide, string rightPlace)
    {
        foreach (string key in wrongSide)
        {
            if (table.Table.Find(key) is { } entry)
            {
                entry.Used = true;
                table.Error(entry.KeySpot, $"`{key}` does not apply to {table.DisplayName}; set it in {rightPlace} or in [defaults]");
            }
        }
    }

    private static ListenerConfig? BindListener(TableReader table, Defaults defaults, List<(string Listener, Named Backend)> backendReferences, string baseDirectory)
    {
        string? name = table.String("name", required: true, what: "a name such as \"web\"");
        table.DisplayName = name is null ? "[[listener]]" : $"listener \"{name}\"";

        var binds = new List<BindAddress>();
        List<(string Value, SourceSpot Spot)>? bindList = table.StringList("bind", required: true, what: "a list of addresses such as [\"127.0.0.1:8080\"]");
        foreach ((string text, SourceSpot spot) in bindList ?? [])
        {
            if (EndPoints.TryParse(text, forBind: true, out IPEndPoint? endPoint, out string? problem))
            {
                binds.Add(new BindAddress(endPoint!, spot));
            }
            else
            {
                table.Error(spot, $"`bind`: {problem}");
            }
        }

        if (bindList is { Count: 0 })
        {
            table.Error(table.SpotOf("bind"), "`bind` needs at least one address");
        }

        (string Value, SourceSpot Spot)? supervisor = table.SpottedString("supervisor", required: true, what: "tcp, http, https, a plugin's supervisor name, or a .csx path");

        AcceptFlags accept = AcceptFlags.None;
        foreach ((string flag, SourceSpot spot) in table.StringList("accept", what: "a list of accept flags") ?? [])
        {
            if (ConfigKeys.AcceptFlagNames.TryGetValue(flag, out AcceptFlags value))
            {
                accept |= value;
            }
            else
            {
                string? suggestion = TableReader.Suggest(flag, ConfigKeys.AcceptFlagNames.Keys);
                table.Error(spot, $"`accept` flag \"{flag}\" is unknown; " + (suggestion is not null ? $"did you mean \"{suggestion}\"?" : $"use {string.Join(", ", ConfigKeys.AcceptFlagNames.Keys)}"));
            }
        }

        int maxConn = (int)(table.Integer("maxconn", 1, 1_000_000) ?? defaults.MaxConn);
        int backlog = (int)(table.Integer("backlog", 1, 65535) ?? defaults.Backlog ?? Math.Min(maxConn, 4096));
        int? receiveBuffer = (int?)table.Size("rcvbuf", 1024, 64 << 20);
        int? sendBuffer = (int?)table.Size("sndbuf", 1024, 64 << 20);
        (string Value, SourceSpot Spot)? backend = table.SpottedString("backend", what: "a backend name");
        if (backend is { } reference)
        {
            backendReferences.Add((name ?? "?", new Named(reference.Value, reference.Spot)));
        }
        List<Named> requestAnalyzers = ReadNames(table, "request_analyzers");
        List<Named> responseAnalyzers = ReadNames(table, "response_analyzers");
        List<Named> afterResponse = ReadNames(table, "after_response_analyzers");
        foreach (Named twice in afterResponse.Where(a => responseAnalyzers.Exists(r => r.Name == a.Name)))
        {
            table.Error(twice.Spot, $"\"{twice.Name}\" is in response_analyzers too: it would run twice on a server's response; list it in one of them");
        }

        bool forwardFor = table.Bool("forwardfor") ?? false;
        List<RouteRule> routes = BindRoutes(table, name, backendReferences, out List<Dictionary<string, SourceSpot>> routeSpots);
        int noRouteStatus = (int)(table.Integer("no_route_status", 404, 503) ?? 503);
        if (noRouteStatus is not (404 or 503))
        {
            table.Error(table.SpotOf("no_route_status"), $"`no_route_status` must be 404 or 503, not {noRouteStatus}");
        }

        bool accessLog = table.Bool("access_log") ?? true;

        // Backends only analyzers and scripts choose (Backend = "canary"): named so that they count as reachable.
        foreach ((string used, SourceSpot spot) in table.StringList("use_backends", what: "a list of backend names that analyzers and scripts may choose") ?? [])
        {
            backendReferences.Add((name ?? "?", new Named(used, spot)));
        }
        ProxyTimeouts timeouts = ReadTimeouts(table, defaults.Timeouts, ConfigKeys.ListenerTimeouts);
        int maxRequestHead = (int)(table.Size("max_request_head", 256, 1 << 20) ?? defaults.MaxRequestHead);
        long? maxRequestBody = table.Size("max_request_body", 0, long.MaxValue) ?? defaults.MaxRequestBody;
        int bufferSize = (int)(table.Size("buffer_size", 1024, 16 << 20) ?? defaults.BufferSize);
        TableReader? optionsTable = table.SubTable("options", $"{table.DisplayName} options");
        Dictionary<string, object?> options = optionsTable?.TakeRest(_ => true) ?? new Dictionary<string, object?>();
        TableReader? tlsTable = table.SubTable("tls", $"[listener.tls] of {table.DisplayName}");
        TlsSettings? tls = tlsTable is null ? null : BindTls(tlsTable, name ?? "?", baseDirectory);
        RejectMisplacedTimeouts(table, ConfigKeys.BackendTimeouts, "the backend");
        table.RejectUnknownKeys(ConfigKeys.Listener);

        // A listener with errors of its own is still returned (unnamed, or with no address it can bind): `check` resolves
        // its supervisor, analyzers and scripts too. Such a configuration is never run.
        if (supervisor is null)
        {
            return null;
        }

        name ??= "";
        return new ListenerConfig
        {
            Name = name,
            Spot = table.Spot,
            Binds = binds,
            Supervisor = new Named(supervisor.Value.Value, supervisor.Value.Spot),
            Accept = accept,
            MaxConn = maxConn,
            Backlog = backlog,
            ReceiveBufferSize = receiveBuffer,
            SendBufferSize = sendBuffer,
            Backend = backend is { } b ? new Named(b.Value, b.Spot) : null,
            RequestAnalyzers = requestAnalyzers,
            ResponseAnalyzers = [.. responseAnalyzers, .. afterResponse],
            AfterResponseCount = afterResponse.Count,
            RouteConditionSpots = routeSpots,
            OptionsSpot = optionsTable?.Spot ?? table.Spot,
            TlsSpot = tlsTable?.Spot,
            OptionSpots = optionsTable?.ValueSpots() ?? [],
            Settings = new ListenerSettings
            {
                Name = name,
                Supervisor = supervisor.Value.Value,
                DefaultBackend = backend?.Value,
                Timeouts = timeouts,
                MaxRequestHead = maxRequestHead,
                MaxRequestBody = maxRequestBody,
                BufferSize = bufferSize,
                ForwardFor = forwardFor,
                Routes = routes,
                NoRouteStatus = noRouteStatus,
                AccessLog = accessLog,
                Options = options,
                Tls = tls,
            },
        };
    }

    /// <summary>
    /// <c>[listener.tls]</c>: certificates (loaded and checked now, each problem at its entry), ALPN, strict SNI and the
    /// lowest TLS version. Relative file names start from the configuration file's folder.
    /// </summary>
    private static TlsSettings? BindTls(TableReader table, string listener, string baseDirectory)
    {
        var files = new List<CertificateFiles>();
        List<TableReader> entries = table.TableArray("certificates", $"a certificate of {table.DisplayName}");
        foreach (TableReader entry in entries)
        {
            (string Value, SourceSpot Spot)? cert = entry.SpottedString("cert", required: true, what: "a PEM certificate file (with its chain) such as \"certs/site.pem\"");
            (string Value, SourceSpot Spot)? key = entry.SpottedString("key", required: true, what: "a PEM private key file such as \"certs/site.key\"");
            entry.RejectUnknownKeys(ConfigKeys.TlsCertificate);
            if (cert is { } c && key is { } k)
            {
                files.Add(new CertificateFiles(Path.GetFullPath(c.Value, baseDirectory), Path.GetFullPath(k.Value, baseDirectory), c.Spot));
            }
        }

        if (!table.Has("certificates"))
        {
            table.Error(table.Spot, $"{table.DisplayName} needs `certificates`, for example: certificates = [{{ cert = \"certs/site.pem\", key = \"certs/site.key\" }}]");
        }
        else if (entries.Count == 0 && table.Table.Find("certificates")?.Value is TomlArrayNode { Items.Count: 0 })
        {
            table.Error(table.SpotOf("certificates"), $"{table.DisplayName} has no certificate; add {{ cert = \"certs/site.pem\", key = \"certs/site.key\" }}");
        }

        var alpn = new List<string>();
        List<(string Value, SourceSpot Spot)>? alpnList = table.StringList("alpn", what: "a list of protocols such as [\"http/1.1\"]");
        foreach ((string protocol, SourceSpot spot) in alpnList ?? [("http/1.1", table.Spot)])
        {
            switch (protocol)
            {
                case "http/1.1" or "http/1.0":
                    alpn.Add(protocol);
                    break;
                case "h2" or "h3":
                    table.Error(spot, $"`alpn` \"{protocol}\" is not supported yet; the https supervisor speaks HTTP/1.x: use [\"http/1.1\"]");
                    break;
                default:
                    table.Error(spot, $"`alpn` \"{protocol}\" is not a protocol the https supervisor speaks; use [\"http/1.1\"]");
                    break;
            }
        }

        if (alpnList is { Count: 0 })
        {
            table.Error(table.SpotOf("alpn"), "`alpn` needs at least one protocol, such as [\"http/1.1\"]");
        }

        bool strictSni = table.Bool("strict_sni") ?? false;
        SslProtocols protocols = SslProtocols.Tls12 | SslProtocols.Tls13;
        if (table.SpottedString("min_version", what: "\"1.2\" or \"1.3\"") is { } minimum)
        {
            switch (minimum.Value)
            {
                case "1.2": break;
                case "1.3": protocols = SslProtocols.Tls13; break;
                default:
                    table.Error(minimum.Spot, $"`min_version` \"{minimum.Value}\" is not offered; use \"1.2\" (TLS 1.2 and 1.3) or \"1.3\" (TLS 1.0 and 1.1 are never accepted)");
                    break;
            }
        }

        table.RejectUnknownKeys(ConfigKeys.Tls);
        if (files.Count != entries.Count || files.Count == 0)
        {
            return null;
        }

        var problems = new List<ConfigError>();
        ListenerCertificates? certificates = ListenerCertificates.Load(listener, files, alpn, protocols, strictSni, problems);
        foreach (ConfigError problem in problems)
        {
            table.Error(problem.Where, problem.Message);
        }

        return certificates is null ? null : new TlsSettings
        {
            Certificates = certificates,
            ApplicationProtocols = alpn,
            StrictSni = strictSni,
            Protocols = protocols,
        };
    }

    private static List<RouteRule> BindRoutes(TableReader listener, string? listenerName, List<(string Listener, Named Backend)> backendReferences,
        out List<Dictionary<string, SourceSpot>> conditionSpots)
    {
        var routes = new List<RouteRule>();
        conditionSpots = [];
        foreach (TableReader table in listener.TableArray("route", $"a route of {listener.DisplayName}"))
        {
            (string Value, SourceSpot Spot)? backend = table.SpottedString("backend", required: true, what: "the backend matching streams go to");
            if (backend is { } reference)
            {
                backendReferences.Add((listenerName ?? "?", new Named(reference.Value, reference.Spot)));
            }

            (string Value, SourceSpot Spot)? host = table.SpottedString("host", what: "a host name such as \"api.example.com\" or \"*.example.com\"");
            (string Value, SourceSpot Spot)? sni = table.SpottedString("sni", what: "a TLS server name such as \"api.example.com\" or \"*.example.com\"");
            foreach ((string key, (string Value, SourceSpot Spot)? given) in new[] { ("host", host), ("sni", sni) })
            {
                if (given is { } h && (h.Value.Length == 0 || h.Value.Contains(':') || h.Value.Contains('/') || h.Value.IndexOf('*', 1) >= 0 || (h.Value[0] == '*' && !h.Value.StartsWith("*.", StringComparison.Ordinal))))
                {
                    table.Error(h.Spot, $"route `{key}` \"{h.Value}\" is not a host name; write \"api.example.com\", or \"*.example.com\" for any subdomain (no port, no path)");
                }
            }

            (string Value, SourceSpot Spot)? path = table.SpottedString("path", what: "an exact path such as \"/health\"");
            (string Value, SourceSpot Spot)? prefix = table.SpottedString("path_prefix", what: "a path prefix such as \"/v1/\"");
            foreach ((string Value, SourceSpot Spot)? p in new[] { path, prefix })
            {
                if (p is { } given && !given.Value.StartsWith('/'))
                {
                    table.Error(given.Spot, $"a route path must start with '/', not \"{given.Value}\"");
                }
            }

            List<(string Value, SourceSpot Spot)>? methods = table.StringList("method", what: "a method or a list of methods");
            foreach ((string method, SourceSpot spot) in methods ?? [])
            {
                if (method.Length == 0 || !method.All(HttpSyntax.IsTokenChar))
                {
                    table.Error(spot, $"route `method` \"{method}\" is not a method name");
                }
            }

            string? headerName = null;
            string? headerValue = null;
            if (table.SubTable("header", "a route's `header`") is { } header)
            {
                headerName = header.String("name", required: true, what: "a header name");
                headerValue = header.String("value", what: "the exact value");
                header.RejectUnknownKeys(ConfigKeys.RouteHeader);
            }

            table.RejectUnknownKeys(ConfigKeys.Route);
            if (backend is not null)
            {
                conditionSpots.Add(ConfigKeys.Route.Where(k => k != "backend" && table.Has(k)).ToDictionary(k => k, k => table.Table.Find(k)!.KeySpot));
                routes.Add(new RouteRule
                {
                    Backend = backend.Value.Value,
                    Host = host?.Value,
                    Sni = sni?.Value,
                    Path = path?.Value,
                    PathPrefix = prefix?.Value,
                    Methods = methods?.Select(m => m.Value).ToList(),
                    HeaderName = headerName,
                    HeaderValue = headerValue,
                });
            }
        }

        return routes;
    }

    private static List<Named> ReadNames(TableReader table, string key)
    {
        var names = new List<Named>();
        foreach ((string value, SourceSpot spot) in table.StringList(key, what: "a list of analyzer names or .csx paths") ?? [])
        {
            if (value.Length == 0)
            {
                table.Error(spot, $"`{key}` holds an empty name");
            }
            else
            {
                names.Add(new Named(value, spot));
            }
        }

        return names;
    }

    private static BackendConfig? BindBackend(TableReader table, Defaults defaults, string baseDirectory)
    {
        string? name = table.String("name", required: true, what: "a name such as \"app\"");
        table.DisplayName = name is null ? "[[backend]]" : $"backend \"{name}\"";
        BalanceAlgorithm balance = ReadBalance(table) ?? defaults.Balance;
        int retries = (int)(table.Integer("retries", 0, 100) ?? defaults.Retries);
        HttpReuse reuse = ReadHttpReuse(table) ?? defaults.HttpReuse;
        ProxyTimeouts timeouts = ReadTimeouts(table, defaults.Timeouts, ConfigKeys.BackendTimeouts);

        bool hasServers = table.Has("servers");
        var servers = new List<ServerConfig>();
        foreach (TableReader serverTable in table.TableArray("servers", $"a server of {table.DisplayName}"))
        {
            if (BindServer(serverTable, baseDirectory) is { } server)
            {
                if (servers.Find(s => s.Name == server.Name) is { } first)
                {
                    serverTable.Error(serverTable.SpotOf("name"), $"server \"{server.Name}\" is already defined in {table.DisplayName} at {first.Spot}");
                }
                else
                {
                    servers.Add(server);
                }
            }
        }

        if (!hasServers)
        {
            table.Error(table.Spot, $"{table.DisplayName} needs `servers`, for example: servers = [{{ name = \"a\", address = \"127.0.0.1:9001\" }}]");
        }
        else if (servers.Count == 0 && table.Table.Find("servers")?.Value is TomlArrayNode { Items.Count: 0 })
        {
            table.Error(table.SpotOf("servers"), $"{table.DisplayName} has no server; add at least one {{ name = \"a\", address = \"127.0.0.1:9001\" }}");
        }

        HealthCheckConfig? check = table.SubTable("check", $"the check of {table.DisplayName}") is { } checkTable ? BindCheck(checkTable) : null;
        RejectMisplacedTimeouts(table, ConfigKeys.ListenerTimeouts, "the listener");
        table.RejectUnknownKeys(ConfigKeys.Backend);
        if (name is null)
        {
            return null;
        }

        return new BackendConfig
        {
            Name = name,
            Spot = table.SpotOf("name"),
            Balance = balance,
            Servers = servers,
            Check = check,
            Timeouts = timeouts,
            Retries = retries,
            HttpReuse = reuse,
        };
    }

    private static ServerConfig? BindServer(TableReader table, string baseDirectory)
    {
        SourceSpot spot = table.Spot;
        string? name = table.String("name", required: true, what: "a name such as \"a\"");
        (string Value, SourceSpot Spot)? address = table.SpottedString("address", required: true, what: "an address such as \"127.0.0.1:9001\"");
        int weight = (int)(table.Integer("weight", 1, 256) ?? 1);
        bool tls = table.Bool("tls") ?? false;
        (string Value, SourceSpot Spot)? sni = table.SpottedString("sni", what: "the server name to ask for and to expect in its certificate");
        (string Value, SourceSpot Spot)? verify = table.SpottedString("verify", what: "\"system\", \"none\", or a CA file such as \"certs/ca.pem\"");
        foreach ((string key, SourceSpot where) in new[] { ("sni", sni?.Spot), ("verify", verify?.Spot) }.Where(k => k.Item2 is not null && !tls).Select(k => (k.Item1, k.Item2!.Value)))
        {
            table.Error(where, $"server `{key}` only applies to TLS: add tls = true");
        }

        if (sni is { } s && (s.Value.Length == 0 || s.Value.Any(c => c is ':' or '/' or ' ')))
        {
            table.Error(s.Spot, $"server `sni` \"{s.Value}\" is not a host name");
        }

        X509Certificate2Collection? authorities = null;
        string verifyMode = verify?.Value ?? "system";
        if (tls && verify is { } v && v.Value is not ("system" or "none"))
        {
            string caFile = Path.GetFullPath(v.Value, baseDirectory);
            verifyMode = caFile;
            try
            {
                authorities = new X509Certificate2Collection();
                authorities.ImportFromPemFile(caFile);
                if (authorities.Count == 0)
                {
                    table.Error(v.Spot, $"server `verify`: {caFile} holds no PEM certificate; give a CA file, \"system\" or \"none\"");
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
            {
                table.Error(v.Spot, $"server `verify`: cannot read the CA file {caFile}: {ex.Message}");
            }
        }

        table.RejectUnknownKeys(ConfigKeys.Server);
        if (name is null || address is null)
        {
            return null;
        }

        if (!EndPoints.TryParse(address.Value.Value, forBind: false, out IPEndPoint? endPoint, out string? problem))
        {
            table.Error(address.Value.Spot, $"server \"{name}\" `address`: {problem}");
            return null;
        }

        string host = address.Value.Value.StartsWith('[') ? address.Value.Value[1..address.Value.Value.IndexOf(']')] : address.Value.Value[..address.Value.Value.LastIndexOf(':')];
        return new ServerConfig
        {
            Name = name,
            Address = address.Value.Value,
            EndPoint = endPoint!,
            Weight = weight,
            Spot = spot,
            Tls = tls ? ServerTls.Create(sni?.Value ?? host, verifyMode, authorities) : null,
        };
    }

    private static HealthCheckConfig BindCheck(TableReader table)
    {
        HealthCheckKind kind = HealthCheckKind.Tcp;
        if (table.SpottedString("kind", what: "\"tcp\" or \"http\"") is { } kindText)
        {
            switch (kindText.Value)
            {
                case "tcp": kind = HealthCheckKind.Tcp; break;
                case "http": kind = HealthCheckKind.Http; break;
                default: table.Error(kindText.Spot, $"check `kind` \"{kindText.Value}\" is unknown; use \"tcp\" or \"http\""); break;
            }
        }

        (string Value, SourceSpot Spot)? path = table.SpottedString("path", what: "a path such as \"/health\"");
        if (path is { } p && !p.Value.StartsWith('/'))
        {
            table.Error(p.Spot, $"check `path` must start with '/', not \"{p.Value}\"");
        }

        if (path is not null && kind != HealthCheckKind.Http)
        {
            table.Error(path.Value.Spot, "check `path` needs kind = \"http\"");
        }

        var check = new HealthCheckConfig
        {
            Kind = kind,
            Path = path?.Value ?? "/",
            Host = table.String("host", what: "a Host header value"),
            Interval = table.Duration("interval", TimeSpan.FromMilliseconds(10)) ?? TimeSpan.FromSeconds(2),
            Timeout = table.Duration("timeout", TimeSpan.FromMilliseconds(10)) ?? TimeSpan.FromSeconds(2),
            Rise = (int)(table.Integer("rise", 1, 100) ?? 2),
            Fall = (int)(table.Integer("fall", 1, 100) ?? 3),
        };
        table.RejectUnknownKeys(ConfigKeys.Check);
        return check;
    }
}
