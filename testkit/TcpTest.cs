using System.Net;
using PluginProxy.Abstractions;
using PluginProxy.Tcp;
using PluginProxy.Tcp.Tls;

namespace PluginProxy.TestKit;

/// <summary>
/// Runs the real <c>tcp</c> supervisor in memory: the client sends its bytes and shuts down its sending side; a
/// <see cref="ScriptedServer"/> in tcp mode reads everything, answers and closes; the result holds both sides' bytes.
/// </summary>
public sealed class TcpTest
{
    /// <summary>The listener's request analyzers (they see the client's bytes before a server is connected).</summary>
    public IReadOnlyList<IFlowAnalyzer> RequestAnalyzers { get; init; } = [];

    /// <summary>The listener's settings; by default <see cref="TestSession.DefaultListener"/> for <c>tcp</c>.</summary>
    public ListenerSettings Listener { get; init; } = TestSession.DefaultListener("tcp");

    /// <summary>The backends; by default <c>app</c> with one server.</summary>
    public IBackendCatalog Backends { get; init; } = new TestBackendCatalog();

    /// <summary>The server every backend reaches (in tcp mode: <see cref="ScriptedServer.ReadsHttp"/> false).</summary>
    public ScriptedServer Server { get; init; } = new(ServerReply.Raw([])) { ReadsHttp = false };

    /// <summary>The client's address as the session sees it.</summary>
    public EndPoint Client { get; init; } = TestSession.ClientAddress;

    /// <summary>How long the run may take before it fails with a <see cref="TimeoutException"/>.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Runs <paramref name="analyzers"/> on <paramref name="clientBytes"/>, the server answering <paramref name="serverReply"/>.</summary>
    public static Task<TcpTestResult> RunAsync(IEnumerable<IFlowAnalyzer> analyzers, byte[] clientBytes, ServerReply serverReply) =>
        new TcpTest { RequestAnalyzers = analyzers.ToList(), Server = new ScriptedServer(serverReply) { ReadsHttp = false } }.RunAsync(clientBytes);

    /// <summary>Sends <paramref name="clientBytes"/>, shuts down the client's sending side, reads until the proxy closes.</summary>
    public async Task<TcpTestResult> RunAsync(byte[] clientBytes)
    {
        using var heartbeat = new TestHeartbeat();
        var logger = new TestLogger<TcpSupervisor>();
        var supervisor = new TcpSupervisor(Server, logger, new TlsSniAnalyzer(), heartbeat);
        (InMemoryTransport proxySide, InMemoryTransport client) = InMemoryTransport.CreatePair();
        using var session = new TestSession(proxySide, Listener)
        {
            Backends = Backends,
            RequestAnalyzers = RequestAnalyzers,
            Connection = new AcceptedConnection(Listener.Name, AcceptFlags.None, Client, TestSession.ListenerAddress),
        };
        using var deadline = new CancellationTokenSource(Timeout);
        Task running = Task.Run(async () => await supervisor.RunAsync(session));
        using (client)
        {
            try
            {
                await client.SendAsync(clientBytes, deadline.Token);
                await client.ShutdownSendAsync();
                byte[] received = await client.ReadToEndAsync(deadline.Token);
                await running.WaitAsync(deadline.Token);
                return new TcpTestResult(received, Server.Received.FirstOrDefault(), logger.Lines, session.Log);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                session.Abort();
                throw new TimeoutException($"the tcp supervisor did not finish within {Timeout}");
            }
        }
    }
}

/// <summary>What a <see cref="TcpTest"/> run saw.</summary>
/// <param name="ClientReceived">What the client received before the proxy closed.</param>
/// <param name="ServerReceived">What the server received, or null when no server was connected.</param>
/// <param name="SupervisorLog">What the supervisor logged.</param>
/// <param name="Session">The session's log record.</param>
public sealed record TcpTestResult(byte[] ClientReceived, byte[]? ServerReceived, IReadOnlyList<LogLine> SupervisorLog, SessionLog Session);
