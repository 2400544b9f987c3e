namespace PluginProxy.Abstractions;

/// <summary>
/// One client connection, from accept to close, as its protocol supervisor sees it.
/// The host creates it after the generic accept and ends it (logs it, closes the client socket) when the supervisor returns.
/// </summary>
public interface ISession
{
    /// <summary>A number unique in this process, for correlating log lines.</summary>
    long Id { get; }

    /// <summary>The accepted connection and what the accept learned.</summary>
    AcceptedConnection Connection { get; }

    /// <summary>
    /// The client's byte stream: the accepted socket, or, for a supervisor run by <see cref="RunNextAsync"/> (as <c>http</c>
    /// under <c>https</c>), the decrypted stream the supervisor below it made. Read and write the client through it.
    /// </summary>
    Transport Transport { get; }

    /// <summary>What the TLS handshake with the client settled, or null when the client connection is plain TCP.</summary>
    TlsInfo? Tls { get; }

    /// <summary>
    /// Hands the session to the supervisor this one stacks on (<see cref="IProtocolSupervisor.Next"/>), with
    /// <paramref name="transport"/> as the client's byte stream, and completes when that supervisor is done.
    /// </summary>
    /// <exception cref="InvalidOperationException">The running supervisor names no <see cref="IProtocolSupervisor.Next"/>.</exception>
    ValueTask RunNextAsync(Transport transport);

    /// <summary>The settings of the listener that accepted the session, as they were when it was accepted.</summary>
    ListenerSettings Listener { get; }

    /// <summary>The backends as they were when the session was accepted.</summary>
    IBackendCatalog Backends { get; }

    /// <summary>The stick tables of the running configuration (<c>[[stick_table]]</c>), or null for a host without them.</summary>
    Tables.IStickTables? StickTables => null;

    /// <summary>
    /// The shared stores of the running configuration (<c>[[store]]</c>): counters every instance of the proxy sees, or
    /// null for a host without them.
    /// </summary>
    Stores.IStores? Stores => null;

    /// <summary>
    /// Called by supervisors at the start of each stream (each request of a keep-alive connection): from then on,
    /// <see cref="RequestAnalyzers"/> and <see cref="ResponseAnalyzers"/> are the listener's current ones, so a reloaded
    /// script or plugin serves the next request while the stream in progress finishes on the version it started with.
    /// </summary>
    void BeginStream();

    /// <summary>
    /// For supervisors that run several streams of one connection at once (HTTP/2), in place of <see cref="BeginStream"/>:
    /// the listener's current analyzers, held until the stream disposes what this returns. Hosts that do not reload
    /// analyzers return the session's lists.
    /// </summary>
    IStreamAnalyzers AcquireStreamAnalyzers() => new SessionStreamAnalyzers(RequestAnalyzers, ResponseAnalyzers, AfterResponseAnalyzers);

    /// <summary>
    /// Tells the host which stream the supervisor runs now, so that its channels' flags (<see cref="ChannelFlags.Hold"/>,
    /// <see cref="ChannelFlags.Autonomous"/>) show on the stats page. Supervisors call it when they create a stream object
    /// (once per connection when they reuse it for every stream). Hosts that do not show them ignore it.
    /// </summary>
    void Attach(ProxyStream stream)
    {
    }

    /// <summary>
    /// For a supervisor that runs no stream object (a tcp session without analyzers, which saves its memory): tells the
    /// host that the session's bytes now flow autonomously both ways (<paramref name="autonomous"/> true), or no longer.
    /// Supervisors with a <see cref="ProxyStream"/> set <see cref="ChannelFlags.Autonomous"/> on its channels instead.
    /// </summary>
    void SetAutonomous(bool autonomous)
    {
    }

    /// <summary>The request-side flow analyzers of the listener, in run order.</summary>
    IReadOnlyList<IFlowAnalyzer> RequestAnalyzers { get; }

    /// <summary>The response-side flow analyzers of the listener, in run order (its <c>after_response_analyzers</c> last).</summary>
    IReadOnlyList<IFlowAnalyzer> ResponseAnalyzers { get; }

    /// <summary>
    /// The listener's <c>after_response_analyzers</c>, as HAProxy's <c>http-after-response</c>: they run on every response
    /// the client gets. On a server's response they are the last of <see cref="ResponseAnalyzers"/>; on a reply the proxy
    /// makes itself (an analyzer's <see cref="AnalyzerAction.Stop"/> reply, an error page), which skips the response
    /// analyzers, an HTTP supervisor runs these alone. Empty by default.
    /// </summary>
    IReadOnlyList<IFlowAnalyzer> AfterResponseAnalyzers => [];

    /// <summary>
    /// Names <paramref name="analyzer"/> for a log line, as the operator knows it: its name in proxy.toml and the plugin
    /// (with its version) or script it comes from, for example <c>rate_limit (plugin RateLimit version 3)</c>. Supervisors
    /// use it when an analyzer throws. The default, for hosts that do not know, is the analyzer's own description.
    /// </summary>
    string DescribeAnalyzer(IFlowAnalyzer analyzer) => analyzer.ToString() ?? analyzer.GetType().Name;

    /// <summary>
    /// Hands the idle client connection back to the host until the client sends again, so that it costs a few hundred
    /// bytes instead of a session: for a supervisor waiting between streams that has read no byte of the next one. On
    /// true, the host has closed the session's socket (the supervisor's pending read ends; the connection itself stays
    /// open): the supervisor returns without touching the client again, and the host ends the session without a log
    /// line. When the client's next bytes arrive, the host runs a new session with the same <see cref="Id"/> on the
    /// listener's supervisor of that moment (a reload in between serves them with the new version); when
    /// <paramref name="timeout"/> passes first, or the proxy stops, it closes the connection as an idle timeout would.
    /// A TLS connection parks too when its transport was made over a <see cref="SocketStream"/> and waits for data with
    /// nothing buffered: the TLS session stays with the parked connection, and the supervisor that terminated TLS finds
    /// it in <see cref="ResumedTls"/>. False when the host cannot park this connection (another transport, a host
    /// without parking).
    /// </summary>
    /// <param name="timeout">How long the parked connection may stay idle, or null for no limit.</param>
    bool TryPark(TimeSpan? timeout) => false;

    /// <summary>
    /// As <see cref="TryPark"/>, for a session whose client is joined to <paramref name="server"/> (a tcp relay with
    /// both directions idle): the host keeps both connections, and the server connection's place in its server's
    /// counts. On true the host has closed both sockets (the pumps' pending reads end; the connections stay open) and
    /// taken <paramref name="server"/> over: disposing it does nothing. When either side sends (or closes), a new
    /// session with the same <see cref="Id"/> and the same <see cref="Log"/> runs with <see cref="ResumedServer"/> set;
    /// when <paramref name="timeout"/> passes first, the host closes both, records <paramref name="timeoutTermination"/>
    /// and writes the session's log line.
    /// </summary>
    bool TryParkJoined(ServerConnection server, TimeSpan? timeout, SessionTermination timeoutTermination) => false;

    /// <summary>The server connection of a session resumed from a parked join (<see cref="TryParkJoined"/>): relay the client to it, or null.</summary>
    ServerConnection? ResumedServer => null;

    /// <summary>
    /// The TLS session of a connection parked while idle (<see cref="TryPark"/>) and resumed, over the new socket: the
    /// supervisor that terminates TLS goes on with it instead of a handshake. Null for a new connection.
    /// </summary>
    TlsTransport? ResumedTls => null;

    /// <summary>The record the host turns into the session's log line.</summary>
    SessionLog Log { get; }

    /// <summary>
    /// Signalled when the proxy is stopping gracefully: finish the stream in progress, take no new one
    /// (an HTTP supervisor closes the keep-alive connection after the current response).
    /// </summary>
    CancellationToken Stopping { get; }

    /// <summary>Signalled when the session must end now (the grace time ran out). The host also closes the client socket then.</summary>
    CancellationToken Aborted { get; }
}
