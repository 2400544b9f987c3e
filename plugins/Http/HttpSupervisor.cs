using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Options;
using PluginProxy.Http.Engine;
using PluginProxy.Http.Upstream;

namespace PluginProxy.Http;

/// <summary>
/// The <c>http</c> protocol supervisor: HTTP/1.1 with keep-alive on both sides, strict parsing, routing, pooled server
/// connections and protocol upgrades. Each connection runs its streams through the engine's phases
/// (<see cref="HttpConnection"/>); http_lb_req and http_lb_resp run first on each side unless the listener places them.
/// </summary>
public sealed class HttpSupervisor : IProtocolSupervisor, IListenerOptions, IDisposable
{
    private readonly HttpLbReq _lbReq;
    private readonly HttpLbResp _lbResp;
    private readonly ConditionalWeakTable<IReadOnlyList<IFlowAnalyzer>, IFlowAnalyzer[]> _requestChains = new();
    private readonly ConditionalWeakTable<IReadOnlyList<IFlowAnalyzer>, IFlowAnalyzer[]> _responseChains = new();

    /// <summary>Created by the host with its services.</summary>
    public HttpSupervisor(IServerConnector connector, IAccessLog accessLog, ILogger<HttpSupervisor> logger, HttpLbReq lbReq, HttpLbResp lbResp, IHeartbeat heartbeat, IRequestTracing? tracing = null)
    {
        Tracing = tracing;
        Timeouts = heartbeat;
        Connector = connector;
        AccessLog = accessLog;
        Logger = logger;
        _lbReq = lbReq;
        _lbResp = lbResp;
        Timeouts.Add(Pool);
        Timeouts.Add(States);
        Http2Pool = new Http2ServerPool(heartbeat);
    }

    internal IServerConnector Connector { get; }

    internal IAccessLog AccessLog { get; }

    /// <summary>The host's tracing, or null when it has none (tests).</summary>
    internal IRequestTracing? Tracing { get; }

    internal ILogger Logger { get; }

    /// <summary>The host's heartbeat: checks the deadlines of every connection and sweeps the idle server pool.</summary>
    internal IHeartbeat Timeouts { get; }

    internal ServerPool Pool { get; } = new();

    /// <summary>The stream states between two streams: a connection holds one only while a stream runs.</summary>
    internal HttpStreamPool States { get; } = new();

    /// <summary>The connections to HTTP/2 servers (<c>proto = "h2"</c>), each carrying many streams.</summary>
    internal Http2ServerPool Http2Pool { get; }

    /// <inheritdoc/>
    public ValueTask RunAsync(ISession session) => session.Tls?.ApplicationProtocol == "h2"
        ? Http2Session.RunAsync(this, session, ReadOnlyMemory<byte>.Empty)
        : new HttpConnection(this, session).RunAsync();

    /// <summary>The request analyzers to run for a listener's list (computed once per list).</summary>
    /// <remarks>A lookup without a new delegate when the list was seen: HTTP/2 streams ask once each.</remarks>
    internal IFlowAnalyzer[] RequestChain(IReadOnlyList<IFlowAnalyzer> listed) =>
        _requestChains.TryGetValue(listed, out IFlowAnalyzer[]? chain) ? chain : _requestChains.GetValue(listed, list => WithParserFirst(list, _lbReq));

    /// <summary>The response analyzers to run for a listener's list (computed once per list).</summary>
    internal IFlowAnalyzer[] ResponseChain(IReadOnlyList<IFlowAnalyzer> listed) =>
        _responseChains.TryGetValue(listed, out IFlowAnalyzer[]? chain) ? chain : _responseChains.GetValue(listed, list => WithParserFirst(list, _lbResp));

    /// <inheritdoc/>
    public IReadOnlyCollection<string> ListenerKeys => HttpLbReq.OwnKeys;

    /// <inheritdoc/>
    public IReadOnlyList<OptionError> CheckListener(ListenerSettings listener) => _lbReq.Bind(listener).Errors;

    /// <summary>The listener's http options (<c>forwardfor</c>, <c>no_route_status</c>, <c>max_request_body</c>, <c>route</c>, <c>h2</c>), bound once per listener configuration.</summary>
    internal HttpListenerOptions OptionsFor(ListenerSettings settings) => _lbReq.OptionsFor(settings);

    /// <summary>The listener's analyzers, with the parser prepended when the listener does not place it itself.</summary>
    private static IFlowAnalyzer[] WithParserFirst(IReadOnlyList<IFlowAnalyzer> listed, IFlowAnalyzer parser) =>
        listed.Any(a => a.GetType() == parser.GetType()) ? listed.ToArray() : [parser, .. listed];

    /// <summary>Closes idle server connections when this plugin version is unloaded (the host drops its heartbeat registrations).</summary>
    public void Dispose()
    {
        Timeouts.Remove(Pool);
        Timeouts.Remove(States);
        Pool.Dispose();
        Http2Pool.Dispose();
        States.Clear();
    }
}
