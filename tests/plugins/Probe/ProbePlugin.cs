using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;

namespace PluginProxy.Tests.Probe;

/// <summary>
/// A test plugin: the <c>probe</c> supervisor answers every connection with one line describing what the generic
/// accept learned and set, then closes. The <c>hold_until_newline</c> analyzer asks for more data until a newline
/// arrives, and <c>deny_all</c> stops every stream with a 403 reply. The <c>probe_*</c> typed HTTP phases are in
/// ProbePhases.cs.
/// </summary>
public sealed class ProbePlugin : IPlugin
{
    public void Configure(IPluginBuilder builder)
    {
        builder.AddSupervisor<ProbeSupervisor>("probe");
        builder.AddAnalyzer<HoldUntilNewline>("hold_until_newline");
        builder.AddAnalyzer<DenyAll>("deny_all");
        builder.AddAnalyzer<ThrowOnBoom>("throw_on_boom");
        builder.AddAnalyzer<HoldUntilGo>("contract_hold_until_go");
        builder.AddAnalyzer<ShortTimeout>("contract_short_timeout");
        builder.AddAnalyzer<BypassOnce>("contract_bypass");
        builder.AddAnalyzer<ThrowOnBoomBytes>("contract_throw_on_boom");
        builder.AddRequestFilter<TagOrDenyRequests>("probe_request_filter");
        builder.AddRequestFilter<ThrowingRequestFilter>("probe_throwing_filter");
        builder.AddUpstreamSelector<BackendFromHeader>("probe_backend_from_header");
        builder.AddResponseFilter<FrameOptionsDeny>("probe_frame_options");
        builder.AddResponseFilter<GoneFor404>("probe_gone_for_404");
        builder.AddHttpLogger<ProbeHttpLogger>("probe_logger");
    }
}

public sealed class ProbeSupervisor : IProtocolSupervisor
{
    public async ValueTask RunAsync(ISession session)
    {
        AcceptedConnection c = session.Connection;
        Socket s = c.Socket;
        string line =
            $"client={c.ClientEndPoint} peer={c.PeerEndPoint} destination={c.DestinationEndPoint} " +
            $"original={(c.OriginalDestination?.ToString() ?? "-")} proxy={(c.ProxyHeader?.Version.ToString() ?? "-")} " +
            $"nodelay={(s.NoDelay ? 1 : 0)} keepalive={(s.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive) is int k && k != 0 ? 1 : 0)} " +
            $"listener={session.Listener.Name}\n";
        await s.SendAsync(Encoding.ASCII.GetBytes(line), SocketFlags.None);
        s.Shutdown(SocketShutdown.Send);
        session.Log.Backend = "probe";
    }
}

/// <summary>Holds the channel until a newline arrives; logs each decision so a test can tell the hold is in force.</summary>
public sealed class HoldUntilNewline(ILogger<HoldUntilNewline> log) : IFlowAnalyzer
{
    public ValueTask<AnalyzerVerdict> AnalyzeAsync(ProxyStream stream, Channel channel, CancellationToken cancellationToken)
    {
        bool release = channel.Data.Span.IndexOf((byte)'\n') >= 0;
        log.LogDebug("hold_until_newline: {Length} bytes held, {Decision}", channel.Length, release ? "releasing" : "no newline yet, holding");
        return ValueTask.FromResult(release ? AnalyzerVerdict.Continue : AnalyzerVerdict.NeedMoreData);
    }
}

public sealed class DenyAll : IFlowAnalyzer
{
    public ValueTask<AnalyzerVerdict> AnalyzeAsync(ProxyStream stream, Channel channel, CancellationToken cancellationToken) =>
        ValueTask.FromResult(AnalyzerVerdict.Stop(AnalyzerReply.Text(403, "denied\n")));
}

/// <summary>Throws for any HTTP request whose path contains "boom" (to prove a failing analyzer ends only its stream).</summary>
public sealed class ThrowOnBoom : IFlowAnalyzer
{
    public ValueTask<AnalyzerVerdict> AnalyzeAsync(ProxyStream stream, Channel channel, CancellationToken cancellationToken)
    {
        if (stream.Http is { HasRequest: true } http && http.Request.Path.Contains("boom", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("boom");
        }

        return ValueTask.FromResult(AnalyzerVerdict.Continue);
    }
}
