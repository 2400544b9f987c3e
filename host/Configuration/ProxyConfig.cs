using System.Net;
using PluginProxy.Abstractions;

namespace PluginProxy.Host.Configuration;

/// <summary>A name written in the configuration, with where it was written (for cross-reference errors).</summary>
internal readonly record struct Named(string Name, SourceSpot Spot);

/// <summary>
/// One checked proxy.toml, bound to typed settings with where each was written. Immutable. Parsing
/// (<see cref="ConfigLoader"/>) reads nothing but the file itself: the files it names (certificates, CA files, the admin
/// token) are only described here (<see cref="ListenerConfig.TlsFiles"/>, <see cref="ServerConfig.TlsFiles"/>,
/// <see cref="GlobalConfig.AdminTokenFile"/>); <see cref="ConfigMaterializer"/> loads them into a copy that carries
/// them (<see cref="ListenerSettings.Tls"/>, <see cref="ServerConfig.Tls"/>, <see cref="GlobalConfig.AdminToken"/>).
/// </summary>
internal sealed record ProxyConfig
{
    public required string FilePath { get; init; }

    /// <summary>The absolute folder of the configuration file; relative paths in it resolve from here.</summary>
    public required string BaseDirectory { get; init; }

    public required GlobalConfig Global { get; init; }

    public required IReadOnlyList<ListenerConfig> Listeners { get; init; }

    public required IReadOnlyList<BackendConfig> Backends { get; init; }

    /// <summary>The <c>[[stick_table]]</c> tables, in file order.</summary>
    public IReadOnlyList<StickTableConfig> StickTables { get; init; } = [];

    /// <summary>The <c>[[store]]</c> tables, in file order.</summary>
    public IReadOnlyList<Stores.StoreConfig> Stores { get; init; } = [];
}

internal sealed record GlobalConfig
{
    /// <summary>Absolute path of the plugins folder.</summary>
    public required string PluginsDirectory { get; init; }

    public required SourceSpot PluginsSpot { get; init; }

    /// <summary>True when <c>plugins</c> is written in the file: then a missing folder is an error, not the default's absence.</summary>
    public bool PluginsNamed { get; init; }

    /// <summary>Absolute path of the base folder for relative .csx paths.</summary>
    public required string ScriptsDirectory { get; init; }

    /// <summary>Where compiled scripts are kept between runs (<c>script_cache</c>).</summary>
    public required string ScriptCacheDirectory { get; init; }

    public bool HotReload { get; init; }

    /// <summary>
    /// The plugins (by folder name) loaded into load contexts that are never unloaded (<c>resident_plugins</c>): the
    /// runtime optimises their hot code further (tiered compilation with run-time profiles, which it does only for code
    /// that cannot be unloaded), and a replaced version stays in memory instead of being collected.
    /// </summary>
    public IReadOnlyDictionary<string, SourceSpot> ResidentPlugins { get; init; } = new Dictionary<string, SourceSpot>();

    /// <summary>Where the stats page, metrics and runtime API listen, or null for none.</summary>
    public IPEndPoint? Admin { get; init; }

    /// <summary>Where <c>admin</c> is written (for bind errors), or null when it is not.</summary>
    public SourceSpot? AdminSpot { get; init; }

    /// <summary>
    /// <c>admin_socket</c>: the absolute path of the admin endpoint's Unix socket (mode 0600; a client that can connect
    /// may act without a token), or null for none.
    /// </summary>
    public string? AdminSocket { get; init; }

    /// <summary><c>admin_token_file</c>: the absolute path of the file holding the admin token and where it is written, or null.</summary>
    public (string Path, SourceSpot Spot)? AdminTokenFile { get; init; }

    /// <summary>
    /// The admin credential read from <see cref="AdminTokenFile"/> (a bearer token) when the configuration is
    /// materialised, or null: then the admin endpoint refuses every request that would change state. Read again on each
    /// reload, so a new token takes effect with it.
    /// </summary>
    public string? AdminToken { get; init; }

    /// <summary>
    /// <c>server_state_file</c>: the absolute path of the file where the runtime API's changes to servers (admin state,
    /// weight) are kept, so that they survive a restart (HAProxy's <c>server-state-file</c>), or null for none.
    /// </summary>
    public string? ServerStateFile { get; init; }

    /// <summary><c>otlp_endpoint</c> and its companions: where metrics (and traces, with <c>tracing</c>) are pushed by OTLP, or null.</summary>
    public Metrics.OtlpTarget? Otlp { get; init; }

    /// <summary><c>tracing</c>: a span per HTTP stream, with W3C <c>traceparent</c> propagated to servers, exported by OTLP.</summary>
    public bool Tracing { get; init; }

    /// <summary><c>trace_sample_ratio</c>: the share of new traces recorded (0-1; a request carrying a sampled parent is always recorded).</summary>
    public double TraceSampleRatio { get; init; } = 1.0;

    /// <summary><c>grace</c>: how long a stopping proxy lets sessions finish before closing them.</summary>
    public TimeSpan Grace { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The traffic log's format and destination (<c>access_log_format</c>, <c>access_log_target</c>, <c>access_log_facility</c>).</summary>
    public AccessLogConfig AccessLog { get; init; } = AccessLogConfig.Default;

    /// <summary><c>resolvers</c> and <c>resolve_timeout</c>: how servers named by host name are resolved.</summary>
    public DnsSettings Dns { get; init; } = DnsSettings.Default;
}

internal sealed record BindAddress(IPEndPoint EndPoint, SourceSpot Spot);

internal sealed record ListenerConfig
{
    public required string Name { get; init; }

    public required SourceSpot Spot { get; init; }

    public required IReadOnlyList<BindAddress> Binds { get; init; }

    public required Named Supervisor { get; init; }

    public AcceptFlags Accept { get; init; }

    public int MaxConn { get; init; }

    public int Backlog { get; init; }

    /// <summary><c>rcvbuf</c> / <c>sndbuf</c>: kernel buffer sizes set on accepted sockets, or null for the system default.</summary>
    public int? ReceiveBufferSize { get; init; }

    public int? SendBufferSize { get; init; }

    public Named? Backend { get; init; }

    public required IReadOnlyList<Named> RequestAnalyzers { get; init; }

    /// <summary><c>response_analyzers</c>, then <c>after_response_analyzers</c> (the last <see cref="AfterResponseCount"/>).</summary>
    public required IReadOnlyList<Named> ResponseAnalyzers { get; init; }

    /// <summary>How many of <see cref="ResponseAnalyzers"/>, at its end, come from <c>after_response_analyzers</c>.</summary>
    public int AfterResponseCount { get; init; }

    /// <summary><c>[[listener.http_request]]</c>, compiled, or null when the listener has none.</summary>
    public Rules.HttpRuleList? RequestRules { get; init; }

    /// <summary><c>[[listener.http_response]]</c>, compiled, or null when the listener has none.</summary>
    public Rules.HttpRuleList? ResponseRules { get; init; }

    /// <summary>
    /// The keys of the <c>[[listener]]</c> table the host does not own, where each is written: the listener's supervisors
    /// and analyzers must claim them (<see cref="IListenerOptions"/>), else each is reported as unknown. A key of a
    /// sub-table the host reads (<see cref="ConfigKeys.ListenerSubTables"/>) is dotted: <c>tls.alpn</c>.
    /// </summary>
    public IReadOnlyList<Named> UnreadKeys { get; init; } = [];

    /// <summary>Where <c>[listener.tls]</c> is written, or null when the listener has none.</summary>
    public SourceSpot? TlsSpot { get; init; }

    /// <summary>
    /// <c>[listener.tls]</c> as written (certificate files not read yet), or null when the listener has none or it has
    /// errors. Once materialised, <see cref="ListenerSettings.Tls"/> holds the loaded certificates.
    /// </summary>
    public ListenerTlsFiles? TlsFiles { get; init; }

    /// <summary>Where the <c>options</c> table is written (the listener itself when it has none).</summary>
    public required SourceSpot OptionsSpot { get; init; }

    /// <summary>Where each value under <c>options</c> is written, by dotted key path.</summary>
    public required IReadOnlyDictionary<string, SourceSpot> OptionSpots { get; init; }

    /// <summary>
    /// Where each value of the <c>[[listener]]</c> table is written, by dotted key path (<c>maxconn</c>,
    /// <c>tls.alpn</c>, <c>options.rate_limit.per</c>): for errors found after parsing, at the value they are about.
    /// </summary>
    public IReadOnlyDictionary<string, SourceSpot> ValueSpots { get; init; } = new Dictionary<string, SourceSpot>();

    /// <summary><c>track</c>: the stick tables every request of this listener is counted in.</summary>
    public IReadOnlyList<Named> Track { get; init; } = [];

    /// <summary>The headers captured into this listener's access-log lines (<c>capture_request_headers</c>, <c>capture_response_headers</c>).</summary>
    public HeaderCapture Capture { get; init; } = HeaderCapture.None;

    /// <summary>The settings handed to the supervisor with each session (<see cref="ListenerSettings.Tls"/> is set once materialised).</summary>
    public required ListenerSettings Settings { get; init; }
}

internal sealed record BackendConfig
{
    public required string Name { get; init; }

    public required SourceSpot Spot { get; init; }

    public BalanceAlgorithm Balance { get; init; }

    public required IReadOnlyList<ServerConfig> Servers { get; init; }

    public HealthCheckConfig? Check { get; init; }

    public required ProxyTimeouts Timeouts { get; init; }

    public int Retries { get; init; }

    public HttpReuse HttpReuse { get; init; }

    /// <summary><c>resolve_interval</c>: how often the names of its servers named by host name are resolved again.</summary>
    public TimeSpan ResolveInterval { get; init; } = DnsSettings.DefaultInterval;
    /// <summary><c>retry_on</c>, <c>redispatch</c>, <c>retry_budget</c>, <c>retry_budget_min</c>.</summary>
    public RetryPolicy RetryPolicy { get; init; } = RetryPolicy.Default;

    /// <summary><c>[backend.passive]</c>, or null when passive health checks are off.</summary>
    public PassiveHealthConfig? Passive { get; init; }
    /// <summary><c>hash_key</c>: what <c>balance = "hash"</c> hashes.</summary>
    public HashKeySource HashKeySource { get; init; }

    /// <summary>The header or cookie name of <c>hash_key</c>, else null.</summary>
    public string? HashKeyName { get; init; }

    /// <summary><c>cookie</c>: the persistence cookie to insert, or null.</summary>
    public string? Cookie { get; init; }

    /// <summary><c>stick_table</c>: the table that remembers each key's server, or null.</summary>
    public Named? StickTable { get; init; }

    /// <summary>Where each value of the <c>[[backend]]</c> table is written, by dotted key path.</summary>
    public IReadOnlyDictionary<string, SourceSpot> ValueSpots { get; init; } = new Dictionary<string, SourceSpot>();
}

internal sealed record ServerConfig
{
    public required string Name { get; init; }

    /// <summary>The address as written.</summary>
    public required string Address { get; init; }

    /// <summary>The address when it is written as an IP address; null when it is a host name (<see cref="HostName"/>).</summary>
    public IPEndPoint? EndPoint { get; init; }

    /// <summary>The host name to resolve (again every <c>resolve_interval</c>), or null when the address is an IP address.</summary>
    public ServerHostName? HostName { get; init; }

    public int Weight { get; init; } = 1;

    /// <summary><c>maxconn</c>: the most streams the server takes at once (0: no limit); the others wait in a queue.</summary>
    public int MaxConn { get; init; }

    /// <summary><c>backup</c>: the server takes traffic only while no normal server of its backend can.</summary>
    public bool Backup { get; init; }

    /// <summary><c>slowstart</c>: how long the server's weight ramps up after it comes back (zero: no ramp).</summary>
    public TimeSpan SlowStart { get; init; }

    /// <summary>The HTTP version spoken to the server (<c>proto</c>, <c>h1</c> by default).</summary>
    public ServerProtocol Protocol { get; init; } = ServerProtocol.Http1;

    /// <summary><c>tls = true</c> and how, as written (the CA file not read yet), or null for plain TCP.</summary>
    public ServerTlsFiles? TlsFiles { get; init; }

    /// <summary>TLS to this server, built from <see cref="TlsFiles"/> when the configuration is materialised; null for plain TCP.</summary>
    public Tls.ServerTls? Tls { get; init; }

    public required SourceSpot Spot { get; init; }
}

internal enum HealthCheckKind
{
    /// <summary>A TCP connect succeeds.</summary>
    Tcp,

    /// <summary>An HTTP GET of the check path answers 2xx or 3xx.</summary>
    Http,
}

internal sealed class HealthCheckConfig
{
    public HealthCheckKind Kind { get; init; }

    public string Path { get; init; } = "/";

    public string? Host { get; init; }

    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Consecutive successes that bring a down server up.</summary>
    public int Rise { get; init; } = 2;

    /// <summary>Consecutive failures that take an up server down.</summary>
    public int Fall { get; init; } = 3;
}

/// <summary>
/// <c>[listener.tls]</c> as written: the certificate and key files (absolute, each with where its entry is written),
/// the TLS versions and <c>strict_sni</c>. Its other keys belong to the supervisor (the https supervisor's <c>alpn</c>).
/// </summary>
internal sealed record ListenerTlsFiles(IReadOnlyList<Tls.CertificateFiles> Certificates, System.Security.Authentication.SslProtocols Protocols, bool StrictSni);

/// <summary>
/// TLS to a server as written: the name to ask for and expect, and how to verify — "system", "none", or the absolute
/// path of a CA file (then <see cref="VerifySpot"/> is where <c>verify</c> is written, for errors reading it).
/// </summary>
internal sealed record ServerTlsFiles(string TargetHost, string Verify, SourceSpot? VerifySpot)
{
    /// <summary>True when <see cref="Verify"/> names a CA file.</summary>
    public bool HasCaFile => Verify is not ("system" or "none");
}
