using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Options;
using PluginProxy.Tcp.Routing;
using PluginProxy.Tcp.Tls;

namespace PluginProxy.Tcp;

/// <summary>
/// The <c>tcp</c> protocol supervisor (the seed notes' "For TCP"): when the listener has request analyzers, the request
/// channel is held until they release it; then a server is picked and connected, and both directions are joined in
/// autonomous mode, waking the supervisor only for an error, a timeout or a close. The whole session is one stream.
/// It owns the conditions of the listener's routes (<see cref="TcpRoute"/>): <c>sni</c> only.
/// </summary>
public sealed class TcpSupervisor : IProtocolSupervisor, IListenerOptions
{
    private readonly IServerConnector _connector;
    private readonly ILogger<TcpSupervisor> _log;
    private readonly IHeartbeat _heartbeat;
    private readonly TlsSniAnalyzer _sni;

    /// <summary>Created by the host with its services.</summary>
    public TcpSupervisor(IServerConnector connector, ILogger<TcpSupervisor> log, TlsSniAnalyzer sni, IHeartbeat heartbeat)
    {
        _heartbeat = heartbeat;
        _connector = connector;
        _log = log;
        _sni = sni;
    }

    /// <summary>A tcp session sees no HTTP request: only the TLS server name (read by tls_sni) can route it; the other conditions are refused.</summary>
    public IReadOnlyCollection<string> ListenerKeys { get; } = [TcpRoutes.Key];

    /// <inheritdoc/>
    public IReadOnlyList<OptionError> CheckListener(ListenerSettings listener) => _sni.Routes.Check(listener);

    /// <summary>The listener's request analyzers, with <c>tls_sni</c> first when routes ask for a server name and it is not listed.</summary>
    private IReadOnlyList<IFlowAnalyzer> AnalyzersFor(ISession session)
    {
        IReadOnlyList<IFlowAnalyzer> listed = session.RequestAnalyzers;
        bool routesBySni = _sni.Routes.RoutesBySni(session.Listener);
        if (!routesBySni || listed.Any(a => a is TlsSniAnalyzer))
        {
            return listed;
        }

        return [_sni, .. listed];
    }

    /// <summary>How long a joined session idles both ways before the host parks it (see <see cref="TcpRelay.ParkAfter"/>).</summary>
    internal static readonly TimeSpan ParkIdleAfter = TimeSpan.FromSeconds(1);

    /// <inheritdoc/>
    public ValueTask RunAsync(ISession session) =>
        session.ResumedServer is { } resumed ? RelayResumedAsync(session, resumed) : RunNewAsync(session);

    /// <summary>A session the host parked idle and resumed when a side sent: relay again, with the backend's timeouts of now.</summary>
    private async ValueTask RelayResumedAsync(ISession session, ServerConnection server)
    {
        using (server)
        {
            IBackend? backend = session.Log.Backend is { } name ? session.Backends.Find(name) : null;
            TcpRelay relay = NewRelay(session, server, backend?.Timeouts ?? session.Listener.Timeouts, parks: true);
            session.SetAutonomous(true);
            await relay.RunAsync(_heartbeat).ConfigureAwait(false);
            session.SetAutonomous(false);
        }
    }

    /// <summary>The join of the session's client and <paramref name="server"/>, parked by the host when idle if <paramref name="parks"/>.</summary>
    private static TcpRelay NewRelay(ISession session, ServerConnection server, ProxyTimeouts timeouts, bool parks) =>
        new(session, session.Transport, server.Transport, timeouts, session.Listener.BufferSize)
        {
            ParkAfter = parks ? ParkIdleAfter : null,
            ParkWith = server,
        };

    private async ValueTask RunNewAsync(ISession session)
    {
        ListenerSettings listener = session.Listener;
        Transport client = session.Transport;
        IBackend? backend = listener.DefaultBackend is { } name ? session.Backends.Find(name) : null;

        Channel? held = null;
        ProxyStream? stream = null;
        ServerLease lease = default;
        IReadOnlyList<IFlowAnalyzer> analyzers = AnalyzersFor(session);
        if (analyzers.Count > 0)
        {
            // The session's one stream; without analyzers none is made (an idle tcp session costs less).
            stream = new ProxyStream(session, new Channel(ChannelDirection.Request, listener.MaxRequestHead), new Channel(ChannelDirection.Response, listener.MaxRequestHead))
            {
                Backend = backend,
            };
            session.Attach(stream);
            if (!await RequestAnalysis.RunAsync(stream, analyzers, client, _log).ConfigureAwait(false))
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
            ServerSelection selection = Selection(session, backend);

            // The session holds a server slot (maxconn) from here to its end, waiting in the backend's queue for one if need be.
            lease = await backend.AcquireAsync(selection, null, session.Aborted).ConfigureAwait(false);
            if (!lease.IsHeld)
            {
                session.Log.TrySetTermination(lease.Failure, lease.Detail);
                TcpLog.NoServer(_log, session.Id, backend.Name, lease.Detail);
                return;
            }

            ConnectResult connect = await _connector.ConnectAsync(backend, lease, selection, session.Aborted).ConfigureAwait(false);
            if (connect.Lease.IsHeld)
            {
                lease = connect.Lease;
            }

            session.Log.Retries = connect.Retries;
            if (connect.Connection is not { } server)
            {
                session.Log.TrySetTermination(connect.Failure, connect.Detail);
                TcpLog.NoServer(_log, session.Id, backend.Name, connect.Detail);
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
                // Only a session without a stream parks: one with analyzers keeps their state in its stream. Nor does one
                // that holds a counted slot: a parked session has no supervisor left to give it back.
                TcpRelay relay = NewRelay(session, server, backend.Timeouts, parks: stream is null && !lease.IsCounted);
                SetAutonomous(session, stream, true);
                await relay.RunAsync(_heartbeat).ConfigureAwait(false);
                SetAutonomous(session, stream, false);
            }
        }
        finally
        {
            held?.Release();
            lease.Release();
        }
    }

    /// <summary>Both directions relay without the supervisor: the stream's channels say so, or the session when there is no stream.</summary>
    private static void SetAutonomous(ISession session, ProxyStream? stream, bool autonomous)
    {
        if (stream is null)
        {
            session.SetAutonomous(autonomous);
            return;
        }

        if (autonomous)
        {
            stream.Request.Flags |= ChannelFlags.Autonomous;
            stream.Response.Flags |= ChannelFlags.Autonomous;
        }
        else
        {
            stream.Request.Flags &= ~ChannelFlags.Autonomous;
            stream.Response.Flags &= ~ChannelFlags.Autonomous;
        }
    }

    /// <summary>
    /// What the balancer looks at: the client's address. A tcp stream has no header, cookie or path, so <c>balance = "hash"</c>
    /// hashes the address whatever <c>hash_key</c> says (as a string key when the key is not <c>source</c>).
    /// </summary>
    private static ServerSelection Selection(ISession session, IBackend backend)
    {
        System.Net.EndPoint? client = session.Connection.ClientEndPoint;
        string? key = backend.Balance == BalanceAlgorithm.Hash && backend.HashKeySource != HashKeySource.Source ? LogNames.Format(client) : null;
        return new ServerSelection(client, key);
    }
}
