namespace PluginProxy.Host.Configuration;

/// <summary>The keys each table of proxy.toml accepts. Anything else is an error.</summary>
internal static class ConfigKeys
{
    public static readonly string[] Root = ["global", "defaults", "listener", "backend", "stick_table", "store"];

    public static readonly string[] Global = ["plugins", "scripts", "script_cache", "hot_reload", "admin", "admin_socket", "admin_token_file", "server_state_file", "grace", "resident_plugins",
         "access_log_format", "access_log_target", "access_log_facility", .. TelemetryKeys.Keys,
         .. DnsKeys.Global];

    /// <summary>Timeouts that concern the client side: read from a listener, else from [defaults].</summary>
    public static readonly string[] ListenerTimeouts = ["timeout_client", "timeout_request", "timeout_keep_alive", "timeout_client_hs"];

    /// <summary>Timeouts that concern the server side: read from a backend, else from [defaults].</summary>
    public static readonly string[] BackendTimeouts = ["timeout_connect", "timeout_server", "timeout_tunnel", "timeout_queue"];

    public static readonly string[] ListenerSizes = ["max_request_head", "buffer_size"];

    /// <summary>Keys of [defaults] the host does not read but hands to listeners for their plugins (the http supervisor's).</summary>
    public static readonly string[] DefaultsForPlugins = ["max_request_body"];

    /// <summary>The headers captured into the access log: read from a listener, else from [defaults].</summary>
    public static readonly string[] ListenerCaptures = ["capture_request_headers", "capture_response_headers"];

    public static readonly string[] Defaults =
        [.. ListenerTimeouts, .. BackendTimeouts, .. ListenerSizes, .. DefaultsForPlugins, .. ListenerCaptures, "maxconn", "backlog", "retries", "balance", "http_reuse",
         .. DnsKeys.Backend, "hash_key"];

    /// <summary>The host's own keys of [[listener]]; plugins own more (<see cref="Abstractions.IListenerOptions"/>).</summary>
    public static readonly string[] Listener =
        ["name", "bind", "supervisor", "accept", "maxconn", "backlog", "rcvbuf", "sndbuf", "backend",
         "request_analyzers", "response_analyzers", "after_response_analyzers", "options", "tls", "route", "access_log", "use_backends",
         Rules.HttpRuleList.RequestKey, Rules.HttpRuleList.ResponseKey, "track",
         .. ListenerTimeouts, .. ListenerSizes, .. ListenerCaptures];

    /// <summary>The host's own keys of [listener.tls]; supervisors own more (the https supervisor's <c>alpn</c>).</summary>
    public static readonly string[] Tls = ["certificates", "strict_sni", "min_version"];

    /// <summary>
    /// The sub-tables of [[listener]] whose keys the host reads and plugins may add to (claimed dotted, <c>tls.alpn</c>),
    /// with how each is named in messages (the listener's name follows).
    /// </summary>
    public static readonly IReadOnlyDictionary<string, (string[] Keys, string DisplayName)> ListenerSubTables =
        new Dictionary<string, (string[], string)>(StringComparer.Ordinal) { ["tls"] = (Tls, "[listener.tls]") };

    public static readonly string[] TlsCertificate = ["cert", "key"];

    /// <summary>The retry policy and passive health keys of [[backend]] (<see cref="RetryKeys"/>).</summary>
    public static readonly string[] BackendRetry = ["retry_on", "redispatch", "retry_budget", "retry_budget_min", "passive"];

    public static readonly string[] Backend = ["name", "balance", "servers", "check", "retries", "http_reuse", .. BackendTimeouts,
         .. DnsKeys.Backend, .. BackendRetry, "hash_key", "cookie", "stick_table"];

    /// <summary>The keys of [backend.passive].</summary>
    public static readonly string[] Passive = ["consecutive_failures", "ejection", "max_ejection", "max_ejected_percent"];

    public static readonly string[] Server = ["name", "address", "weight", "tls", "sni", "verify", "proto",
         .. DnsKeys.Server, "maxconn", "backup", "slowstart"];

    public static readonly string[] Check = ["kind", "path", "host", "interval", "timeout", "rise", "fall"];

    public static readonly IReadOnlyDictionary<string, Abstractions.AcceptFlags> AcceptFlagNames =
        new Dictionary<string, Abstractions.AcceptFlags>(StringComparer.Ordinal)
        {
            ["nodelay"] = Abstractions.AcceptFlags.NoDelay,
            ["keepalive"] = Abstractions.AcceptFlags.KeepAlive,
            ["reuseport"] = Abstractions.AcceptFlags.ReusePort,
            ["defer_accept"] = Abstractions.AcceptFlags.DeferAccept,
            ["original_dst"] = Abstractions.AcceptFlags.OriginalDestination,
            ["proxy_protocol"] = Abstractions.AcceptFlags.ProxyProtocol,
            ["transparent"] = Abstractions.AcceptFlags.Transparent,
        };

    public static readonly IReadOnlyDictionary<string, Abstractions.HttpReuse> HttpReuseNames =
        new Dictionary<string, Abstractions.HttpReuse>(StringComparer.Ordinal)
        {
            ["safe"] = Abstractions.HttpReuse.Safe,
            ["always"] = Abstractions.HttpReuse.Always,
        };

    public static readonly IReadOnlyDictionary<string, Abstractions.BalanceAlgorithm> BalanceNames =
        new Dictionary<string, Abstractions.BalanceAlgorithm>(StringComparer.Ordinal)
        {
            ["roundrobin"] = Abstractions.BalanceAlgorithm.RoundRobin,
            ["leastconn"] = Abstractions.BalanceAlgorithm.LeastConn,
            ["source"] = Abstractions.BalanceAlgorithm.Source,
            ["uri"] = Abstractions.BalanceAlgorithm.Uri,
            ["random"] = Abstractions.BalanceAlgorithm.Random,
            ["hash"] = Abstractions.BalanceAlgorithm.Hash,
        };
}
