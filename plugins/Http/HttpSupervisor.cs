using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Options;
using PluginProxy.Http.Routing;
using PluginProxy.Http.Upstream;

namespace PluginProxy.Http;

/// <summary>
/// The <c>http</c> protocol supervisor: HTTP/1.1 with keep-alive on both sides, strict parsing, routing, pooled server
/// connections and protocol upgrades. http_lb_req and http_lb_resp run first on each side unless the listener places them.
/// </summary>
public sealed class HttpSupervisor : IProtocolSupervisor, IListenerOptions, IDisposable
{
    private const int MaxPooledStates = 1024;

    private readonly HttpLbReq _lbReq;
    private readonly HttpLbResp _lbResp;
    private static readonly IReadOnlyCollection<string> OwnKeys = OptionsBinder.KeysOf<HttpListenerOptions>().ToArray();

    private readonly ConditionalWeakTable<ListenerSettings, RouteTable> _routes = new();
    private readonly ConditionalWeakTable<ListenerSettings, OptionsBinding<HttpListenerOptions>> _options = new();
    private readonly ConditionalWeakTable<IReadOnlyList<IFlowAnalyzer>, IFlowAnalyzer[]> _requestChains = new();
    private readonly ConditionalWeakTable<IReadOnlyList<IFlowAnalyzer>, IFlowAnalyzer[]> _responseChains = new();
    private readonly Stack<HttpStreamState> _states = new();

    /// <summary>Created by the host with its services.</summary>
    public HttpSupervisor(IServerConnector connector, IAccessLog accessLog, ILogger<HttpSupervisor> logger, HttpLbReq lbReq, HttpLbResp lbResp, IHeartbeat heartbeat)
    {
        Timeouts = heartbeat;
        Connector = connector;
        AccessLog = accessLog;
        Logger = logger;
        _lbReq = lbReq;
        _lbResp = lbResp;
        Timeouts.Add(Pool);
    }

    internal IServerConnector Connector { get; }

    internal IAccessLog AccessLog { get; }

    internal ILogger Logger { get; }

    /// <summary>The host's heartbeat: checks the deadlines of every connection and sweeps the idle server pool.</summary>
    internal IHeartbeat Timeouts { get; }

    internal ServerPool Pool { get; } = new();

    /// <inheritdoc/>
    public ValueTask RunAsync(ISession session) => new HttpConnection(this, session).RunAsync();

    /// <summary>The request analyzers to run for a listener's list (computed once per list).</summary>
    internal IFlowAnalyzer[] RequestChain(IReadOnlyList<IFlowAnalyzer> listed) => _requestChains.GetValue(listed, list => WithParserFirst(list, _lbReq));

    /// <summary>The response analyzers to run for a listener's list (computed once per list).</summary>
    internal IFlowAnalyzer[] ResponseChain(IReadOnlyList<IFlowAnalyzer> listed) => _responseChains.GetValue(listed, list => WithParserFirst(list, _lbResp));

    /// <summary>The listener's analyzers, with the parser prepended when the listener does not place it itself.</summary>
    private static IFlowAnalyzer[] WithParserFirst(IReadOnlyList<IFlowAnalyzer> listed, IFlowAnalyzer parser) =>
        listed.Any(a => a.GetType() == parser.GetType()) ? listed.ToArray() : [parser, .. listed];

    /// <inheritdoc/>
    public IReadOnlyCollection<string> ListenerKeys => OwnKeys;

    /// <inheritdoc/>
    public IReadOnlyList<OptionError> CheckListener(ListenerSettings listener) => Bind(listener).Errors;

    /// <summary>
    /// The listener's http options, bound once per listener configuration (a reload brings new settings). A configuration
    /// whose options have errors is refused before it runs (<see cref="CheckListener"/>), so defaults never stand in here.
    /// </summary>
    internal HttpListenerOptions OptionsFor(ListenerSettings settings) => Bind(settings).Value;

    private OptionsBinding<HttpListenerOptions> Bind(ListenerSettings settings) =>
        _options.GetValue(settings, static s => OptionsBinder.Bind<HttpListenerOptions>(s.Table, claimsTable: false));

    internal RouteTable RoutesFor(ListenerSettings settings) => _routes.GetValue(settings, s => new RouteTable(s.Routes));

    internal HttpStreamState RentState()
    {
        lock (_states)
        {
            if (_states.TryPop(out HttpStreamState? state))
            {
                return state;
            }
        }

        return new HttpStreamState();
    }

    internal void ReturnState(HttpStreamState state)
    {
        lock (_states)
        {
            if (_states.Count < MaxPooledStates)
            {
                _states.Push(state);
                return;
            }
        }

        state.ReleaseBuffers();
    }

    /// <summary>Closes idle server connections when this plugin version is unloaded (the host drops its heartbeat registrations).</summary>
    public void Dispose()
    {
        Timeouts.Remove(Pool);
        Pool.Dispose();
        lock (_states)
        {
            foreach (HttpStreamState state in _states)
            {
                state.ReleaseBuffers();
            }

            _states.Clear();
        }
    }
}
