using System.Net;
using PluginProxy.Abstractions;
using PluginProxy.Http;

namespace PluginProxy.TestKit;

/// <summary>
/// Runs the real <c>http</c> supervisor in memory: one client connection sends requests, a <see cref="ScriptedServer"/>
/// answers them, and the result holds what the client got and what the server got. Analyzers run as the listener of a
/// proxy runs them (after <c>http_lb_req</c> on requests, after <c>http_lb_resp</c> on responses).
/// <code>
/// HttpTestResult result = await HttpTest.RunAsync([new MyAnalyzer()], "GET / HTTP/1.1\r\nHost: x\r\n\r\n", ServerReply.Ok("hello"));
/// Assert.Equal("DENY", result.Response.Headers["X-Frame-Options"]);
/// </code>
/// </summary>
public sealed class HttpTest
{
    /// <summary>The listener's request analyzers, in run order.</summary>
    public IReadOnlyList<IFlowAnalyzer> RequestAnalyzers { get; init; } = [];

    /// <summary>The listener's response analyzers, in run order.</summary>
    public IReadOnlyList<IFlowAnalyzer> ResponseAnalyzers { get; init; } = [];

    /// <summary>The listener's <c>after_response_analyzers</c>.</summary>
    public IReadOnlyList<IFlowAnalyzer> AfterResponseAnalyzers { get; init; } = [];

    /// <summary>The listener's settings (its options, timeouts, routes); by default <see cref="TestSession.DefaultListener"/>.</summary>
    public ListenerSettings Listener { get; init; } = TestSession.DefaultListener();

    /// <summary>The backends; by default <c>app</c> with one server.</summary>
    public IBackendCatalog Backends { get; init; } = new TestBackendCatalog();

    /// <summary>The server every backend reaches; by default one answering <c>200 OK</c>.</summary>
    public ScriptedServer Server { get; init; } = new();

    /// <summary>The client's address as the session sees it.</summary>
    public EndPoint Client { get; init; } = TestSession.ClientAddress;

    /// <summary>How long the whole run may take before it fails with a <see cref="TimeoutException"/>.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Runs <paramref name="analyzers"/> (each in the request or response list as its <see cref="IFlowAnalyzer.Direction"/>
    /// says; request when it says neither) on <paramref name="request"/>, with <paramref name="serverReply"/> (200 OK when null)
    /// as the server's answer.
    /// </summary>
    public static Task<HttpTestResult> RunAsync(IEnumerable<IFlowAnalyzer> analyzers, string request, ServerReply? serverReply = null, ListenerSettings? listener = null)
    {
        List<IFlowAnalyzer> all = analyzers.ToList();
        var test = new HttpTest
        {
            RequestAnalyzers = all.Where(a => a.Direction != ChannelDirection.Response).ToList(),
            ResponseAnalyzers = all.Where(a => a.Direction == ChannelDirection.Response).ToList(),
            Server = new ScriptedServer(serverReply ?? ServerReply.Ok()),
            Listener = listener ?? TestSession.DefaultListener(),
        };
        return test.RunAsync(request);
    }

    /// <summary>A <c>GET</c> of <paramref name="target"/> with a Host field and <paramref name="headers"/>.</summary>
    public static string Get(string target = "/", params (string Name, string Value)[] headers) =>
        $"GET {target} HTTP/1.1\r\nHost: test\r\n{string.Concat(headers.Select(h => $"{h.Name}: {h.Value}\r\n"))}\r\n";

    /// <summary>
    /// Sends <paramref name="requests"/> one after the other on one client connection (each waits for its response), then
    /// closes the client's sending side and waits for the supervisor to finish.
    /// </summary>
    public async Task<HttpTestResult> RunAsync(params string[] requests)
    {
        using var heartbeat = new TestHeartbeat();
        var accessLog = new TestAccessLog();
        var logger = new TestLogger<HttpSupervisor>();
        using var supervisor = new HttpSupervisor(Server, accessLog, logger, new HttpLbReq(), new HttpLbResp(), heartbeat);
        (InMemoryTransport proxySide, InMemoryTransport client) = InMemoryTransport.CreatePair();
        using var session = new TestSession(proxySide, Listener)
        {
            Backends = Backends,
            RequestAnalyzers = RequestAnalyzers,
            ResponseAnalyzers = ResponseAnalyzers,
            AfterResponseAnalyzers = AfterResponseAnalyzers,
            Connection = new AcceptedConnection(Listener.Name, AcceptFlags.None, Client, TestSession.ListenerAddress),
        };
        using var deadline = new CancellationTokenSource(Timeout);
        var responses = new List<HttpTestResponse>();
        Task running = Task.Run(async () => await supervisor.RunAsync(session));
        using (client)
        {
            try
            {
                await ExchangeAsync(client, requests, responses, deadline.Token);
                await client.ShutdownSendAsync();
                await running.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                session.Abort();
                throw new TimeoutException($"the http supervisor did not finish within {Timeout}; responses so far:\n{string.Join("\n", responses)}");
            }
        }

        return new HttpTestResult(responses, Server.Requests, accessLog.Lines, logger.Lines, session.Log);
    }

    private static async Task ExchangeAsync(InMemoryTransport client, string[] requests, List<HttpTestResponse> responses, CancellationToken cancellationToken)
    {
        var reader = new HttpMessageReader(client);
        foreach (string request in requests)
        {
            await client.SendAsync(request, cancellationToken);
            bool head = request.StartsWith("HEAD ", StringComparison.Ordinal);
            HttpTestResponse? response;
            do
            {
                response = await reader.ReadAsync(isResponse: true, head, cancellationToken) is { } message ? new HttpTestResponse(message) : null;
            }
            while (response is { Status: >= 100 and < 200 and not 101 });

            if (response is null)
            {
                return; // The proxy closed the connection.
            }

            responses.Add(response);
        }
    }
}

/// <summary>What an <see cref="HttpTest"/> run saw.</summary>
public sealed class HttpTestResult(
    IReadOnlyList<HttpTestResponse> responses,
    IReadOnlyList<ServerRequest> serverRequests,
    IReadOnlyList<string> accessLog,
    IReadOnlyList<LogLine> supervisorLog,
    SessionLog session)
{
    /// <summary>The responses the client received, one per request answered (fewer when the proxy closed early).</summary>
    public IReadOnlyList<HttpTestResponse> Responses { get; } = responses;

    /// <summary>The first response (the only one for a single request).</summary>
    /// <exception cref="InvalidOperationException">The proxy closed the connection without answering.</exception>
    public HttpTestResponse Response => Responses.Count > 0 ? Responses[0] : throw new InvalidOperationException("the proxy closed the connection without a response");

    /// <summary>The requests the server received, in order.</summary>
    public IReadOnlyList<ServerRequest> ServerRequests { get; } = serverRequests;

    /// <summary>The first request the server received, or null when none reached it.</summary>
    public ServerRequest? ServerRequest => ServerRequests.Count > 0 ? ServerRequests[0] : null;

    /// <summary>The access log lines the supervisor wrote.</summary>
    public IReadOnlyList<string> AccessLog { get; } = accessLog;

    /// <summary>What the supervisor logged (an analyzer that threw, say).</summary>
    public IReadOnlyList<LogLine> SupervisorLog { get; } = supervisorLog;

    /// <summary>The session's log record (termination, backend, server, bytes).</summary>
    public SessionLog Session { get; } = session;
}
