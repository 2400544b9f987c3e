using PluginProxy.Abstractions;
using PluginProxy.Tcp.Routing;

namespace PluginProxy.Tcp.Tls;

/// <summary>
/// The <c>tls_sni</c> request analyzer, for SNI routing without termination: it holds the start of a tcp session until
/// the client's TLS ClientHello is complete, reads the server name from it without decrypting anything, and picks the
/// backend of the first <c>[[listener.route]]</c> whose <c>sni</c> matches (else the listener's backend). The bytes it
/// looked at are then forwarded untouched, and the rest of the session flows in autonomous mode. A client that sends
/// something other than a ClientHello, a malformed one, or one larger than <c>max_request_head</c> is closed.
/// </summary>
/// <remarks>
/// The tcp supervisor runs it first on its own when the listener has routes with <c>sni</c> and does not list it.
/// It waits for the ClientHello at most <c>timeout_client_hs</c>.
/// </remarks>
public sealed class TlsSniAnalyzer : IFlowAnalyzer
{
    /// <summary>The stream variable holding the server name read (null when the client sent none).</summary>
    public const string ServerNameVariable = "tls.sni";

    /// <summary>The routes of each listener, bound from its table once per listener configuration.</summary>
    internal TcpRoutes Routes { get; } = new();

    /// <inheritdoc/>
    public ChannelDirection? Direction => ChannelDirection.Request;

    /// <inheritdoc/>
    public ValueTask<AnalyzerVerdict> AnalyzeAsync(ProxyStream stream, Channel channel, CancellationToken cancellationToken)
    {
        ClientHelloStatus status = ClientHello.TryParse(channel.Data.Span, channel.ReadLimit, out ClientHelloInfo hello);
        switch (status)
        {
            case ClientHelloStatus.NeedMoreData when !channel.InputEnded:
                return ValueTask.FromResult(AnalyzerVerdict.NeedMoreData);
            case ClientHelloStatus.Complete:
                stream.Variables[ServerNameVariable] = hello.ServerName;
                foreach (TcpRoute route in Routes.For(stream.Session.Listener))
                {
                    if (route.MatchesSni(hello.ServerName))
                    {
                        stream.Backend = stream.Session.Backends.Find(route.Backend);
                        break;
                    }
                }

                return ValueTask.FromResult(AnalyzerVerdict.Continue);
            default:
                string reason = status switch
                {
                    ClientHelloStatus.NotTls => "not a TLS ClientHello",
                    ClientHelloStatus.Malformed => "malformed TLS ClientHello",
                    ClientHelloStatus.TooLarge => $"TLS ClientHello larger than {channel.ReadLimit} bytes (max_request_head)",
                    _ => "the client closed before its TLS ClientHello was complete",
                };
                stream.Session.Log.TrySetTermination(SessionTermination.HandshakeFailed, reason);
                return ValueTask.FromResult(AnalyzerVerdict.Stop(new AnalyzerReply(400)));
        }
    }
}
