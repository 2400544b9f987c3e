using System.Runtime.CompilerServices;
using PluginProxy.Abstractions;
using PluginProxy.Http.Codec.H2;
using PluginProxy.Http.Engine.H2;

namespace PluginProxy.Http.Engine;

/// <summary>
/// A client connection that speaks HTTP/2: negotiated by ALPN <c>h2</c> on an https listener, or begun with the client
/// preface (prior knowledge, h2c) on an http listener. <see cref="Http2ClientConnection"/> runs the frames; each stream
/// runs through the engine's phases (<see cref="HttpConnection.StartHttp2Stream"/>). When the proxy stops or the
/// plugin is reloaded, the connection sends GOAWAY and ends once its open streams finished.
/// </summary>
internal static class Http2Session
{
    /// <summary>The connection preface an HTTP/2 client starts with (RFC 9113 §3.4).</summary>
    public static ReadOnlySpan<byte> Preface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    private static readonly ConditionalWeakTable<ListenerSettings, Http2Limits> Limits = new();

    /// <summary>True when <paramref name="data"/> could still become the preface (a prefix of it, or all of it).</summary>
    public static bool MayBePreface(ReadOnlySpan<byte> data) =>
        data.Length < Preface.Length ? Preface.StartsWith(data) : data.StartsWith(Preface);

    /// <param name="owner">The http supervisor.</param>
    /// <param name="session">The client connection.</param>
    /// <param name="initialBytes">What was read already (the preface on an http listener), or nothing.</param>
    public static async ValueTask RunAsync(HttpSupervisor owner, ISession session, ReadOnlyMemory<byte> initialBytes)
    {
        session.Log.LoggedByStreams = true;
        var runners = new Http2StreamRunners(owner, session);
        var connection = new Http2ClientConnection(session.Transport, runners.RunAsync,
            LimitsFor(owner, session.Listener), owner.Logger, initialBytes, owner.Timeouts)
        {
            HandlerFinishesStreams = true,
        };
        using CancellationTokenRegistration stop = session.Stopping.UnsafeRegister(static c => ((Http2ClientConnection)c!).BeginShutdown(), connection);
        await connection.RunAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// The HTTP/2 limits of a listener, made once per listener configuration: its <c>[listener.h2]</c> keys; the header
    /// list follows <c>max_request_head</c>, the idle and write deadlines its timeouts.
    /// </summary>
    private static Http2Limits LimitsFor(HttpSupervisor owner, ListenerSettings settings) =>
        Limits.TryGetValue(settings, out Http2Limits? limits) ? limits
            : Limits.GetValue(settings, s => owner.OptionsFor(s).H2.ToLimits(s.MaxRequestHead, s.Timeouts.KeepAlive, s.Timeouts.Client));
}
