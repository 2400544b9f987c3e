using System.Net;
using System.Security.Authentication;
using PluginProxy.Abstractions;
using PluginProxy.Host.Tls;
using Tomlyn.Syntax;

namespace PluginProxy.Host.Configuration;

/// <summary>
/// Reads one [[listener]] table: addresses, accept flags, supervisor, analyzers, the backends of routes, TLS. Keys a
/// plugin owns (<c>forwardfor</c>, the conditions of routes, <c>tls.alpn</c>) are left in <see cref="ListenerSettings.Table"/> for the
/// plugin to bind (see <see cref="ListenerConfig.UnreadKeys"/>).
/// </summary>
internal static class ListenerTables
{
    internal static ListenerConfig? Bind(TableReader table, ConfigDefaults defaults, List<(string Listener, Named Backend)> backendReferences, string baseDirectory)
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

        ReadRouteBackends(table, name, backendReferences);
        string listenerName = name ?? "?";
        Rules.HttpRuleList? requestRules = Rules.RuleReader.Read(table, Rules.HttpRuleList.RequestKey, b => backendReferences.Add((listenerName, b)));
        Rules.HttpRuleList? responseRules = Rules.RuleReader.Read(table, Rules.HttpRuleList.ResponseKey, b => backendReferences.Add((listenerName, b)));

        List<Named> track = (table.StringList("track", what: "a list of [[stick_table]] names") ?? []).Select(t => new Named(t.Value, t.Spot)).ToList();
        bool accessLog = table.Bool("access_log") ?? true;
        HeaderCapture capture = AccessLogKeys.ReadCapture(table, defaults.Capture);

        // Backends only analyzers and scripts choose (Backend = "canary"): named so that they count as reachable.
        foreach ((string used, SourceSpot spot) in table.StringList("use_backends", what: "a list of backend names that analyzers and scripts may choose") ?? [])
        {
            backendReferences.Add((name ?? "?", new Named(used, spot)));
        }
        ProxyTimeouts timeouts = CommonKeys.ReadTimeouts(table, defaults.Timeouts, ConfigKeys.ListenerTimeouts);
        int maxRequestHead = (int)(table.Size("max_request_head", 256, 1 << 20) ?? defaults.MaxRequestHead);
        int bufferSize = (int)(table.Size("buffer_size", 1024, 16 << 20) ?? defaults.BufferSize);
        TableReader? optionsTable = table.SubTable("options", $"{table.DisplayName} options");
        Dictionary<string, object?> options = optionsTable?.TakeRest(_ => true) ?? new Dictionary<string, object?>();
        TableReader? tlsTable = table.SubTable("tls", $"[listener.tls] of {table.DisplayName}");
        ListenerTlsFiles? tls = tlsTable is null ? null : BindTls(tlsTable, baseDirectory);
        CommonKeys.RejectMisplacedTimeouts(table, ConfigKeys.BackendTimeouts, "the backend");

        // The keys the host does not read belong to plugins (forwardfor, no_route_status, max_request_body of http) or are
        // mistakes: which, is known once the listener's supervisor and analyzers are (ListenerPipeline reports them).
        List<TomlEntry> unread = table.Unread();
        IEnumerable<Named> unreadTls = tlsTable?.Unread().Select(e => new Named("tls." + UnreadName(e.Key), e.KeySpot)) ?? [];
        IEnumerable<TomlEntry> inherited = defaults.PluginEntries.Where(d => table.Table.Find(d.Key) is null);

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
            RequestRules = requestRules,
            ResponseRules = responseRules,
            UnreadKeys = [.. unread.Select(e => new Named(UnreadName(e.Key), e.KeySpot)), .. unreadTls],
            OptionsSpot = optionsTable?.Spot ?? table.Spot,
            TlsSpot = tlsTable?.Spot,
            TlsFiles = tls,
            OptionSpots = optionsTable?.ValueSpots() ?? [],
            ValueSpots = table.ValueSpots(),
            Capture = capture,
            Track = track,
            Settings = new ListenerSettings
            {
                Name = name,
                Supervisor = supervisor.Value.Value,
                DefaultBackend = backend?.Value,
                Timeouts = timeouts,
                MaxRequestHead = maxRequestHead,
                BufferSize = bufferSize,
                AccessLog = accessLog,
                Options = options,
                Table = table.Table.ToOption([.. table.Table.Entries, .. inherited]),
            },
        };
    }

    /// <summary>
    /// <c>[listener.tls]</c>: certificate files (named only: <see cref="ConfigMaterializer"/> loads them), strict SNI and
    /// the lowest TLS version. Relative file names start from the configuration file's folder. The keys left unread
    /// (<c>alpn</c>) belong to the listener's supervisor.
    /// </summary>
    private static ListenerTlsFiles? BindTls(TableReader table, string baseDirectory)
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

        // The other keys are the supervisor's (alpn of https) or mistakes: ListenerOptionsCheck tells which (see UnreadKeys).
        if (files.Count != entries.Count || files.Count == 0)
        {
            return null;
        }

        return new ListenerTlsFiles(files, protocols, strictSni);
    }

    /// <summary>
    /// Reads the <c>backend</c> of each <c>[[listener.route]]</c>, so that it counts as named (and must name a backend).
    /// The conditions are left in <see cref="ListenerSettings.Table"/> for the supervisor that routes by them to bind
    /// and check (<see cref="Abstractions.IListenerOptions"/>); the host knows none of them.
    /// </summary>
    private static void ReadRouteBackends(TableReader listener, string? listenerName, List<(string Listener, Named Backend)> backendReferences)
    {
        foreach (TableReader table in listener.TableArray("route", $"a route of {listener.DisplayName}"))
        {
            (string Value, SourceSpot Spot)? backend = table.SpottedString("backend", required: true, what: "the backend matching streams go to");
            if (backend is { } reference)
            {
                backendReferences.Add((listenerName ?? "?", new Named(reference.Value, reference.Spot)));
            }
        }
    }

    /// <summary>
    /// An unread key as plugins claim it: a key of [listener.tls] is dotted (<c>tls.alpn</c>), so a quoted key holding a
    /// dot (<c>"tls.alpn" = ...</c>) stays quoted, and no claim names it by mistake.
    /// </summary>
    private static string UnreadName(string key) => key.Contains('.') ? $"\"{key}\"" : key;

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
}
