using System.Runtime.CompilerServices;
using System.Text;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;
using PluginProxy.Abstractions.Options;
using PluginProxy.Http.Codec.H1;
using PluginProxy.Http.Routing;

namespace PluginProxy.Http;

/// <summary>
/// <c>http_lb_req</c>: the request rules of an http listener, on the version-independent message the codec decoded
/// (strictly: a malformed head never reaches an analyzer): <c>max_request_body</c> against the declared length, then
/// routing (the first matching <c>[[listener.route]]</c>, else the listener's backend). Once every request analyzer
/// released the channel, the supervisor picks a server of the chosen backend and connects.
/// </summary>
public sealed class HttpLbReq : IFlowAnalyzer
{
    internal static readonly IReadOnlyCollection<string> OwnKeys = OptionsBinder.KeysOf<HttpListenerOptions>().ToArray();

    /// <summary>Per listener configuration (a reload brings new settings): its bound options and its routes compiled from them.</summary>
    private readonly ConditionalWeakTable<ListenerSettings, ListenerRules> _listeners = new();

    private sealed class ListenerRules(OptionsBinding<HttpListenerOptions> options)
    {
        public OptionsBinding<HttpListenerOptions> Options { get; } = options;

        public RouteTable Routes { get; } = new(options.Value.Route);
    }

    /// <inheritdoc/>
    public ChannelDirection? Direction => ChannelDirection.Request;

    /// <inheritdoc/>
    public ValueTask<AnalyzerVerdict> AnalyzeAsync(ProxyStream stream, Channel channel, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Analyze(stream));

    private AnalyzerVerdict Analyze(ProxyStream stream)
    {
        if (stream.Http is not { HasRequest: true } http)
        {
            return AnalyzerVerdict.Stop(AnalyzerReply.Text(500, "http_lb_req needs a decoded HTTP request (an http listener)\n"));
        }

        ListenerRules rules = RulesFor(stream.Session.Listener);
        HttpRequestHead request = http.Request;
        if (rules.Options.Value.MaxRequestBody is long max && request.ContentLength > max)
        {
            return AnalyzerVerdict.Stop(ErrorReplies.For(HttpParseError.BodyTooLarge));
        }

        if (!rules.Routes.IsEmpty)
        {
            Route(stream, rules.Routes, request);
        }

        return AnalyzerVerdict.Continue;
    }

    /// <summary>
    /// The listener's http options, bound once per listener configuration (a reload brings new settings). A configuration
    /// whose options have errors is refused before it runs (<see cref="HttpSupervisor.CheckListener"/>), so defaults never stand in here.
    /// </summary>
    internal HttpListenerOptions OptionsFor(ListenerSettings settings) => Bind(settings).Value;

    internal OptionsBinding<HttpListenerOptions> Bind(ListenerSettings settings) => RulesFor(settings).Options;

    private ListenerRules RulesFor(ListenerSettings settings) =>
        _listeners.GetValue(settings, static s => new ListenerRules(OptionsBinder.Bind<HttpListenerOptions>(s.Table, claimsTable: false)));

    /// <summary>Routes by the normalised path and the authority (an absolute-form target's, which the codec put in Host; else Host).</summary>
    private static void Route(ProxyStream stream, RouteTable routes, HttpRequestHead request)
    {
        ReadOnlySpan<byte> path = request.TargetChanged ? Encoding.ASCII.GetBytes(request.Path) : PathOf(request.RawTarget);
        int hostIndex = request.Headers.IndexOf("Host"u8);
        ReadOnlySpan<byte> host = hostIndex < 0 ? []
            : request.Headers.IsReceived(hostIndex) ? request.Headers.RawValue(hostIndex)
            : Encoding.ASCII.GetBytes(request.Headers.ValueAt(hostIndex));
        string? backend = routes.Match(request, HttpSyntax.HostWithoutPort(host), path, stream.Session.Tls?.ServerName);
        if (backend is not null)
        {
            stream.Backend = stream.Session.Backends.Find(backend);
        }
    }

    private static ReadOnlySpan<byte> PathOf(ReadOnlySpan<byte> originForm)
    {
        int question = originForm.IndexOf((byte)'?');
        return question < 0 ? originForm : originForm[..question];
    }
}
