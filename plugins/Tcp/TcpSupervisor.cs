using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Plugins.Shared;

namespace PluginProxy.Tcp;

/// <summary>
/// The <c>tcp</c> protocol supervisor (the seed notes' "For TCP"): when the listener has request analyzers, the request
/// channel is held until they release it; then a server is picked and connected, and both directions are joined in
/// autonomous mode, waking the supervisor only for an error, a timeout or a close. The whole session is one stream.
/// </summary>
public sealed class TcpSupervisor : IProtocolSupervisor, IDisposable
{
    private readonly IServerConnector _connector;
    private readonly ILogger<TcpSupervisor> _log;
    private readonly TimeoutScanner _timeouts = new();

    /// <summary>Created by the host with its services.</summary>
    public TcpSupervisor(IServerConnector connector, ILogger<TcpSupervisor> log)
    {
        _connector = connector;
        _log = log;
    }

    /// <summary>Stops the timeout timer when this plugin version is unloaded.</summary>
    public void Dispose() => _timeouts.Dispose();

    /// <inheritdoc/>
    public async ValueTask RunAsync(ISession session)
    {
        ListenerSettings listener = session.Listener;
        Transport client = session.Transport;
        IBackend? backend = listener.DefaultBackend is { } name ? session.Backends.Find(name) : null;

        Channel? held = null;
        if (session.RequestAnalyzers.Count > 0)
        {
            var stream = new ProxyStream(session, new Channel(ChannelDirection.Request, listener.MaxRequestHead), new Channel(ChannelDirection.Response, listener.MaxRequestHead))
            {
                Backend = backend,
            };
            if (!await RequestAnalysis.RunAsync(stream, client, _log).ConfigureAwait(false))
            {
                stream.Request.Release();
                return;
            }

            backend = stream.Backend;
            held = stream.Request;
        }

        try
        {
            if (backend is null)
            {
                session.Log.TrySetTermination(SessionTermination.NoBackend, "the listener has no backend and no analyzer chose one");
                return;
            }

            session.Log.Backend = backend.Name;
            ConnectResult connect = await _connector.ConnectAsync(backend, new ServerSelection(session.Connection.ClientEndPoint), session.Aborted).ConfigureAwait(false);
            session.Log.Retries = connect.Retries;
            if (connect.Connection is not { } server)
            {
                session.Log.TrySetTermination(connect.Failure, connect.Detail);
                _log.LogWarning("Session {Session}: no server of backend {Backend} answered ({Reason}); closing the client", session.Id, backend.Name, connect.Detail);
                return;
            }

            using (server)
            {
                session.Log.Server = server.Server.Name;
                session.Log.ConnectTime = connect.ConnectTime;
                if (held is { Length: > 0 })
                {
                    // What the analyzers looked at goes first, exactly as received.
                    await server.Transport.SendAsync(held.Data).ConfigureAwait(false);
                    session.Log.BytesFromClient += held.Length;
                }

                held?.Release();
                held = null;
                var relay = new TcpRelay(session, client, server.Transport, backend.Timeouts, listener.BufferSize);
                _timeouts.Add(relay);
                try
                {
                    await relay.RunAsync().ConfigureAwait(false);
                }
                finally
                {
                    _timeouts.Remove(relay);
                }
            }
        }
        finally
        {
            held?.Release();
        }
    }
}
