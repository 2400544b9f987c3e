using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Host.Configuration;
using PluginProxy.Host.Logging;
using PluginProxy.Host.Sessions;

namespace PluginProxy.Host.Accept;

/// <summary>
/// One configured listener at run time: its listening sockets, the generic accept that every listener shares
/// (driven by the listener's accept flags), its <c>maxconn</c> slots, and the pipeline its new sessions start with.
/// </summary>
internal sealed partial class Listener : IAsyncDisposable
{
    private readonly ListenerConfig _config;
    private readonly SessionRegistry _sessions;
    private readonly ILogger _log;
    private readonly ISessionLines _sessionLines;
    private readonly SemaphoreSlim _slots;
    private readonly List<Socket> _sockets = [];
    private readonly List<Task> _acceptLoops = [];
    private readonly CancellationTokenSource _stopAccepting = new();

    // Sockets taken over from a listener of the previous configuration, with the configuration they were made with.
    private readonly Dictionary<Socket, ListenerConfig> _adopted = [];

    // Sockets handed over to a listener of the next configuration: they stay open when this one stops.
    private readonly HashSet<Socket> _handedOver = [];
    private ListenerPipeline _pipeline;
    private long _totalSessions;
    private int _activeSessions;
    private int _parkedSessions;

    /// <summary>Accepted connections whose session has not started yet (it starts on the thread pool).</summary>
    private int _starting;

    /// <param name="sessionLines">Where session lines go: the host's traffic log; null for the logger's PluginProxy.Session
    /// (a host whose access log was handed to it).</param>
    public Listener(ListenerConfig config, ListenerPipeline pipeline, SessionRegistry sessions, ILoggerFactory loggers, ISessionLines? sessionLines = null)
    {
        _config = config;
        _pipeline = pipeline;
        _sessions = sessions;
        _log = loggers.CreateLogger("PluginProxy.Listener");
        _sessionLines = sessionLines ?? new LoggerSessionLines(loggers);
        _slots = new SemaphoreSlim(config.MaxConn, config.MaxConn);
    }

    public string Name => _config.Name;

    /// <summary>The configuration the listening sockets were made with (a reload that changes it makes a new listener).</summary>
    public ListenerConfig BoundConfig => _config;

    /// <summary>The listener's current configuration (a reload may change what does not concern the sockets).</summary>
    public ListenerConfig Config => Pipeline.Config;

    /// <summary>True when a listener configured as <paramref name="next"/> can keep this one's sockets.</summary>
    public bool CanKeepSockets(ListenerConfig next) =>
        _config.Binds.Select(b => b.EndPoint).SequenceEqual(next.Binds.Select(b => b.EndPoint))
        && _config.Accept == next.Accept && _config.MaxConn == next.MaxConn && _config.Backlog == next.Backlog
        && _config.ReceiveBufferSize == next.ReceiveBufferSize && _config.SendBufferSize == next.SendBufferSize
        && _config.Settings.Timeouts.ClientHandshake == next.Settings.Timeouts.ClientHandshake;

    public ListenerPipeline Pipeline => Volatile.Read(ref _pipeline);

    /// <summary>The addresses actually bound (with the real port when the configuration said 0).</summary>
    public IReadOnlyList<IPEndPoint> BoundEndPoints => _sockets.Select(s => (IPEndPoint)s.LocalEndPoint!).ToList();

    /// <summary>The listening sockets (for reading back their options).</summary>
    internal IReadOnlyList<Socket> ListeningSockets => _sockets;

    /// <summary>Sessions of this listener running now.</summary>
    public int ActiveSessions => Volatile.Read(ref _activeSessions);

    public long TotalSessions => Interlocked.Read(ref _totalSessions);

    /// <summary>
    /// Creates, configures and binds every listening socket, or takes it over already bound from a listener of the
    /// previous configuration (<paramref name="handover"/>, during a reload); nothing is accepted yet.
    /// </summary>
    /// <exception cref="ListenerBindException">An address cannot be bound or taken over, or an accept flag cannot be applied.</exception>
    public void Bind(SocketHandover? handover = null)
    {
        foreach (BindAddress bind in _config.Binds)
        {
            if (handover?.TryTake(this, bind) is { } taken)
            {
                _sockets.Add(taken.Socket);
                _adopted[taken.Socket] = taken.BoundWith;
                continue;
            }

            var socket = new Socket(bind.EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                ConfigureListeningSocket(socket, bind);
                socket.Bind(bind.EndPoint);
                socket.Listen(_config.Backlog);
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                string why = (ex.SocketErrorCode == SocketError.AddressAlreadyInUse ? handover?.WhyInUse(bind.EndPoint) : null) ?? ListenerBindException.Describe(ex);
                throw new ListenerBindException($"{bind.Spot}: listener \"{Name}\" cannot bind {EndPoints.Format(bind.EndPoint)}: {why}", ex);
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            _sockets.Add(socket);
        }
    }

    /// <summary>
    /// Why a listening socket made for <paramref name="boundWith"/> cannot serve a listener configured as
    /// <paramref name="next"/>, or null when it can (what differs is applied by <see cref="StartAccepting"/>).
    /// </summary>
    public static string? WhyCannotTakeOver(ListenerConfig boundWith, ListenerConfig next)
    {
        const string Remedy = "restart the proxy to change it, or bind another address";
        AcceptFlags changed = boundWith.Accept ^ next.Accept;
        if ((changed & (AcceptFlags.ReusePort | AcceptFlags.Transparent)) != 0)
        {
            string flag = (changed & AcceptFlags.ReusePort) != 0 ? "reuseport" : "transparent";
            return $"the accept flag \"{flag}\" changed, and it only applies when the address is bound; {Remedy}";
        }

        if ((boundWith.ReceiveBufferSize is not null && next.ReceiveBufferSize is null) || (boundWith.SendBufferSize is not null && next.SendBufferSize is null))
        {
            return $"`rcvbuf` or `sndbuf` was removed, and a bound socket cannot go back to the system's automatic sizing; {Remedy}";
        }

        return null;
    }

    /// <summary>Closes the sockets this listener bound and leaves those it was to take over to their listener (it never accepted).</summary>
    public void Abandon()
    {
        foreach (Socket socket in _sockets.Where(s => !_adopted.ContainsKey(s)))
        {
            socket.Dispose();
        }

        _sockets.Clear();
        _adopted.Clear();
        _stopAccepting.Dispose();
    }

    /// <summary>Leaves <paramref name="socket"/> open when this listener stops: a listener of the new configuration accepts on it.</summary>
    public void HandOver(Socket socket) => _handedOver.Add(socket);

    private void ConfigureListeningSocket(Socket socket, BindAddress bind)
    {
        AcceptFlags flags = _config.Accept;
        if ((flags & AcceptFlags.ReusePort) != 0)
        {
            LinuxSocketOptions.SetReusePort(socket);
        }

        if ((flags & AcceptFlags.Transparent) != 0)
        {
            try
            {
                LinuxSocketOptions.SetTransparent(socket);
            }
            catch (SocketException ex)
            {
                throw new ListenerBindException(
                    $"{bind.Spot}: listener \"{Name}\" has accept flag \"transparent\", but IP_TRANSPARENT cannot be set ({ex.SocketErrorCode}): " +
                    "it needs the CAP_NET_ADMIN capability (run as root, or grant it: `setcap cap_net_admin+ep` on the dotnet executable)", ex);
            }
        }

        if ((flags & AcceptFlags.DeferAccept) != 0)
        {
            LinuxSocketOptions.SetDeferAccept(socket, DeferAcceptSeconds(_config));
        }

        // Set before listen(): accepted sockets inherit them, and the receive buffer decides the window scale offered in the SYN-ACK.
        if (_config.ReceiveBufferSize is { } receive)
        {
            socket.ReceiveBufferSize = receive;
        }

        if (_config.SendBufferSize is { } send)
        {
            socket.SendBufferSize = send;
        }
    }

    // The kernel wants seconds; the accept handshake timeout is the natural bound for a client that sends nothing.
    private static int DeferAcceptSeconds(ListenerConfig config) =>
        (config.Accept & AcceptFlags.DeferAccept) == 0 ? 0 : Math.Max(1, (int)Math.Ceiling(config.Settings.Timeouts.ClientHandshake.TotalSeconds));

    /// <summary>
    /// Applies to a socket taken over what this configuration changes and a listening socket takes at any time. Done when
    /// accepting starts, not at bind, so that a reload refused after binding leaves the running sockets as they were.
    /// </summary>
    private void ApplyChangedOptions(Socket socket, ListenerConfig boundWith)
    {
        try
        {
            if (boundWith.Backlog != _config.Backlog)
            {
                socket.Listen(_config.Backlog); // listen() on a listening socket only sets the queue length
            }

            if (DeferAcceptSeconds(boundWith) != DeferAcceptSeconds(_config))
            {
                LinuxSocketOptions.SetDeferAccept(socket, DeferAcceptSeconds(_config));
            }

            if (_config.ReceiveBufferSize is { } receive && receive != boundWith.ReceiveBufferSize)
            {
                socket.ReceiveBufferSize = receive;
            }

            if (_config.SendBufferSize is { } send && send != boundWith.SendBufferSize)
            {
                socket.SendBufferSize = send;
            }
        }
        catch (SocketException ex)
        {
            // The address keeps accepting with its previous options: better than refusing a reload already applied.
            AcceptLog.SocketOptionsNotApplied(_log, Name, EndPoints.Format((IPEndPoint)socket.LocalEndPoint!), ex.SocketErrorCode);
        }
    }

    public void StartAccepting()
    {
        foreach ((Socket socket, ListenerConfig boundWith) in _adopted)
        {
            ApplyChangedOptions(socket, boundWith);
        }

        foreach (Socket socket in _sockets)
        {
            _acceptLoops.Add(AcceptLoopAsync(socket));
        }

        AcceptLog.Accepting(_log, Name, Config.Supervisor.Name, string.Join(", ", BoundEndPoints.Select(EndPoints.Format)), _config.MaxConn);
    }

    /// <summary>Installs the pipeline for new sessions; returns the previous one (running sessions keep it until they end).</summary>
    public ListenerPipeline SwapPipeline(ListenerPipeline next) => Interlocked.Exchange(ref _pipeline, next);

    /// <summary>Runs a session on <paramref name="connection"/>, accepted or resumed from the parking lot, until it ends or parks.</summary>
    /// <param name="pipeline">Taken for this session; set to null once the session owns it, so that this method does not
    /// keep a superseded pipeline (and the plugin and script versions it holds) reachable for the session's whole life.</param>
    private async Task RunAsync(AcceptedConnection connection, long id, ListenerPipeline? pipeline, SessionLog? log = null, ServerConnection? resumedServer = null,
        TlsTransport? resumedTls = null)
    {
        Session? session = null;
        try
        {
            session = new Session(id, connection, this, pipeline!, _sessions.Stopping, _sessions.Aborted, log, resumedServer, resumedTls);
            pipeline = null; // the session owns that reference now
            _sessions.Add(session);
            await session.Supervisor.RunAsync(session).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // A supervisor that throws ends its own session only.
            if (session is not null && !(ex is ObjectDisposedException && session.Aborted.IsCancellationRequested))
            {
                session.Log.TrySetTermination(SessionTermination.InternalError, $"{ex.GetType().Name}: {ex.Message}");
                AcceptLog.SupervisorFailed(_log, ex, session.SupervisorName, session.SupervisorOrigin, session.Id, Name);
            }
            else if (session is null)
            {
                AcceptLog.AcceptThrew(_log, ex, Name);
            }
        }
        finally
        {
            connection.Socket.Dispose();
            ParkedConnection? parked = null;
            if (session is not null)
            {
                // Log before leaving the registry: a stopping proxy exits as soon as the registry is empty.
                SessionLog ended = session.Log;
                parked = session.Parked;
                if (!ended.LoggedByStreams && parked is null)
                {
                    _sessionLines.SessionEnded(session.Connection, ended, System.Diagnostics.Stopwatch.GetTimestamp());
                }

                _sessions.Remove(session);
                session.End();
            }

            pipeline?.Release();
            Interlocked.Decrement(ref _activeSessions);

            // A parked connection keeps its maxconn slot until it is resumed or closed.
            if (parked is not null)
            {
                session!.HandOffParked();
            }
            else
            {
                _slots.Release();
            }
        }
    }

    /// <summary>The current pipeline, with a reference taken on it.</summary>
    public ListenerPipeline AcquirePipeline()
    {
        while (true)
        {
            ListenerPipeline pipeline = Volatile.Read(ref _pipeline);
            if (pipeline.TryAcquire())
            {
                return pipeline;
            }
        }
    }

    /// <summary>Closes the listening sockets (except those handed over); running sessions go on.</summary>
    public async Task StopAcceptingAsync()
    {
        if (!_stopAccepting.IsCancellationRequested)
        {
            _stopAccepting.Cancel();
            Parking?.CloseAll(this);
            foreach (Socket socket in _sockets.Where(s => !_handedOver.Contains(s)))
            {
                socket.Dispose();
            }

            await Task.WhenAll(_acceptLoops).ConfigureAwait(false);

            // The last accepted connections have their sessions registered, so that a stop waits for them too.
            while (Volatile.Read(ref _starting) > 0)
            {
                await Task.Delay(1).ConfigureAwait(false);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAcceptingAsync().ConfigureAwait(false);
        _stopAccepting.Dispose();
    }
}
