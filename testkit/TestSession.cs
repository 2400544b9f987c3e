using System.Net;
using PluginProxy.Abstractions;

namespace PluginProxy.TestKit;

/// <summary>
/// An <see cref="ISession"/> in memory, every part settable: the listener's settings, the backends, the analyzers, the
/// client's transport. Give it to a supervisor's <c>RunAsync</c>, or to an analyzer through a <see cref="ProxyStream"/>.
/// </summary>
public sealed class TestSession : ISession, IDisposable
{
    private static long s_lastId;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _aborted = new();

    /// <summary>A session for <paramref name="transport"/> (the supervisor's end of the client connection).</summary>
    public TestSession(Transport transport, ListenerSettings? listener = null)
    {
        Transport = transport;
        Listener = listener ?? DefaultListener();
        Connection = new AcceptedConnection(Listener.Name, AcceptFlags.None, ClientAddress, ListenerAddress);
    }

    /// <summary>The client address sessions get unless told otherwise (TEST-NET-1).</summary>
    public static IPEndPoint ClientAddress { get; } = new(IPAddress.Parse("192.0.2.1"), 50000);

    /// <summary>The address the listener is said to be bound to.</summary>
    public static IPEndPoint ListenerAddress { get; } = new(IPAddress.Loopback, 8080);

    /// <summary>
    /// The listener <c>test</c> for <paramref name="supervisor"/> with backend <c>app</c> and the default timeouts;
    /// change it with <c>with { ... }</c>, say <c>DefaultListener() with { Options = ... }</c>.
    /// </summary>
    public static ListenerSettings DefaultListener(string supervisor = "http") =>
        new() { Name = "test", Supervisor = supervisor, DefaultBackend = "app", Timeouts = new ProxyTimeouts() };

    /// <inheritdoc/>
    public long Id { get; } = Interlocked.Increment(ref s_lastId);

    /// <inheritdoc/>
    public AcceptedConnection Connection { get; set; }

    /// <inheritdoc/>
    public Transport Transport { get; set; }

    /// <inheritdoc/>
    public TlsInfo? Tls { get; set; }

    /// <inheritdoc/>
    public ListenerSettings Listener { get; set; }

    /// <inheritdoc/>
    public IBackendCatalog Backends { get; set; } = new TestBackendCatalog();

    /// <inheritdoc/>
    public IReadOnlyList<IFlowAnalyzer> RequestAnalyzers { get; set; } = [];

    /// <inheritdoc/>
    public IReadOnlyList<IFlowAnalyzer> ResponseAnalyzers { get; set; } = [];

    /// <inheritdoc/>
    public IReadOnlyList<IFlowAnalyzer> AfterResponseAnalyzers { get; set; } = [];

    /// <inheritdoc/>
    public SessionLog Log { get; set; } = new();

    /// <summary>How many times the supervisor began a stream (<see cref="BeginStream"/>).</summary>
    public int StreamsBegun { get; private set; }

    /// <summary>What <see cref="RunNextAsync"/> runs (the supervisor stacked under the one tested), or null to refuse.</summary>
    public Func<Transport, ValueTask>? Next { get; set; }

    /// <inheritdoc/>
    public CancellationToken Stopping => _stopping.Token;

    /// <inheritdoc/>
    public CancellationToken Aborted => _aborted.Token;

    /// <inheritdoc/>
    public void BeginStream() => StreamsBegun++;

    /// <inheritdoc/>
    public ValueTask RunNextAsync(Transport transport) =>
        Next?.Invoke(transport) ?? throw new InvalidOperationException("this test session has no next supervisor (set TestSession.Next)");

    /// <inheritdoc/>
    public string DescribeAnalyzer(IFlowAnalyzer analyzer) => analyzer.GetType().Name;

    /// <summary>Signals <see cref="Stopping"/>, as a graceful stop of the proxy does.</summary>
    public void Stop() => _stopping.Cancel();

    /// <summary>Signals <see cref="Aborted"/> and closes the transport, as the host does when the grace time ran out.</summary>
    public void Abort()
    {
        _aborted.Cancel();
        Transport.Dispose();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _stopping.Dispose();
        _aborted.Dispose();
    }
}
