using PluginProxy.Abstractions;
using PluginProxy.Host.Accept;
using PluginProxy.Host.Backends;
using PluginProxy.Host.Plugins;

namespace PluginProxy.Host.Sessions;

/// <summary>
/// The host's record of one client connection, handed to the supervisor. It keeps the version of the plugin (or script)
/// its supervisor comes from loaded for its whole life, and holds the pipeline its current stream's analyzers come from:
/// <see cref="BeginStream"/> moves to the listener's current one, so a keep-alive connection does not pin old versions.
/// </summary>
internal sealed class Session : ISession
{
    private readonly Listener _listener;
    private readonly SupervisorLevel[] _levels;
    private int _level;
    private readonly Lock _pipelineSwap = new();
    private ListenerPipeline _streamPipeline;

    /// <param name="pipeline">The pipeline the session was accepted with, with a reference the session now owns.</param>
    /// <param name="log">The log of the session this one resumes (a parked join), or null for a new one.</param>
    /// <param name="resumedServer">The server connection of a parked join this session resumes, or null.</param>
    /// <param name="resumedTls">The TLS session of a parked TLS connection this session resumes, over its new socket, or null.</param>
    public Session(long id, AcceptedConnection connection, Listener listener, ListenerPipeline pipeline, CancellationToken stopping, CancellationToken aborted,
        SessionLog? log = null, ServerConnection? resumedServer = null, TlsTransport? resumedTls = null)
    {
        Id = id;
        Log = log ?? new SessionLog();
        ResumedServer = resumedServer;
        ResumedTls = resumedTls;
        Connection = connection;
        _listener = listener;
        Supervisor = pipeline.Supervisor;
        Transport = new SocketTransport(connection.Socket);
        Listener = pipeline.Settings;
        Backends = pipeline.Backends;
        StickTables = pipeline.Backends.Tables;
        Stores = pipeline.Stores;
        _connectionEntries = OpenTrackedConnection(pipeline.Settings, connection);
        _streamPipeline = pipeline;
        // The pipeline holds a reference on each supervisor's owner: taking one more cannot fail.
        _levels = pipeline.Supervisors;
        foreach (SupervisorLevel level in _levels)
        {
            level.Owner.TryAcquire();
        }

        Stopping = stopping;
        Aborted = aborted;
    }

    public long Id { get; }

    public AcceptedConnection Connection { get; }

    /// <summary>The supervisor running this session.</summary>
    public IProtocolSupervisor Supervisor { get; }

    /// <summary>The name of the supervisor running now (the configured one, or one it stacks on).</summary>
    public string SupervisorName => _levels[_level].Name;

    /// <summary>What provides the supervisor running now: a plugin or a script, with its version.</summary>
    public string SupervisorOrigin => _levels[_level].Owner.ToString() ?? "";

    public Transport Transport { get; private set; }

    public TlsInfo? Tls => Transport.Tls;

    /// <summary>Runs the supervisor the current one stacks on, over <paramref name="transport"/>.</summary>
    public async ValueTask RunNextAsync(Transport transport)
    {
        if (_level + 1 >= _levels.Length)
        {
            throw new InvalidOperationException($"supervisor \"{SupervisorName}\" names no supervisor to run next");
        }

        _level++;
        Transport = transport;
        await _levels[_level].Supervisor.RunAsync(this).ConfigureAwait(false);
    }

    public ListenerSettings Listener { get; }

    public IBackendCatalog Backends { get; }

    /// <inheritdoc/>
    public Abstractions.Tables.IStickTables? StickTables { get; }

    /// <inheritdoc/>
    public Abstractions.Stores.IStores? Stores { get; }

    // The entries of the source-keyed tables the listener tracks, whose conn_cur counts this session (null: none).
    private readonly Tables.StickEntry[]? _connectionEntries;

    /// <summary>Counts the connection in the listener's tracked tables keyed by the client's address (<c>conn_cur</c>).</summary>
    private static Tables.StickEntry[]? OpenTrackedConnection(ListenerSettings settings, AcceptedConnection connection)
    {
        if (settings.Track.Count == 0)
        {
            return null;
        }

        var entries = new List<Tables.StickEntry>(settings.Track.Count);
        foreach (Abstractions.Tables.IStickTable table in settings.Track)
        {
            if (table is Tables.StickTable { KeyedBySource: true } source && source.TrackAddress(connection.ClientEndPoint) is { } entry)
            {
                entry.AddConnections(1);
                entries.Add(entry);
            }
        }

        return entries.Count == 0 ? null : entries.ToArray();
    }

    public IReadOnlyList<IFlowAnalyzer> RequestAnalyzers => _streamPipeline.RequestAnalyzers;

    public IReadOnlyList<IFlowAnalyzer> ResponseAnalyzers => _streamPipeline.ResponseAnalyzers;

    public IReadOnlyList<IFlowAnalyzer> AfterResponseAnalyzers => _streamPipeline.AfterResponseAnalyzers;

    public string DescribeAnalyzer(IFlowAnalyzer analyzer) => _streamPipeline.Describe(analyzer);

    public SessionLog Log { get; }

    /// <inheritdoc/>
    public ServerConnection? ResumedServer { get; }

    /// <inheritdoc/>
    public TlsTransport? ResumedTls { get; }

    /// <summary>The stream the supervisor runs now (see <see cref="Attach"/>), or null before it made one.</summary>
    public ProxyStream? Stream { get; private set; }

    /// <inheritdoc/>
    public void Attach(ProxyStream stream) => Stream = stream;

    /// <summary>True while an analyzer holds a channel of the current stream.</summary>
    public bool IsHeld => Stream is { } s && (s.Request.IsHeld || s.Response.IsHeld);

    /// <inheritdoc/>
    public void SetAutonomous(bool autonomous) => _autonomous = autonomous;

    /// <summary>True while data flows without waking the supervisor (a body, a tunnel, a tcp relay) and nothing is held.</summary>
    public bool IsAutonomous => !IsHeld && (_autonomous || (Stream is { } s && ((s.Request.Flags | s.Response.Flags) & ChannelFlags.Autonomous) != 0));

    private volatile bool _autonomous;

    public CancellationToken Stopping { get; }

    public CancellationToken Aborted { get; }

    /// <summary>Moves the next stream to the listener's current analyzers (a reloaded script or plugin), if they changed.</summary>
    /// <remarks>Streams of one HTTP/2 connection begin on several threads at once: the swap is made under a lock.</remarks>
    public void BeginStream()
    {
        if (ReferenceEquals(_listener.Pipeline, _streamPipeline))
        {
            return;
        }

        ListenerPipeline previous;
        lock (_pipelineSwap)
        {
            previous = _streamPipeline;
            if (ReferenceEquals(_listener.Pipeline, previous))
            {
                return;
            }

            _streamPipeline = _listener.AcquirePipeline();
        }

        previous.Release();
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The session moves to the current pipeline too (<see cref="BeginStream"/>): a long-lived HTTP/2 connection must not
    /// keep the versions it was accepted with loaded once its streams run on newer ones.
    /// </remarks>
    public IStreamAnalyzers AcquireStreamAnalyzers()
    {
        BeginStream();
        return new StreamPipelineLease(_listener.AcquirePipeline());
    }

    /// <summary>What the host keeps of the connection once the supervisor parked it (<see cref="TryPark"/>), or null.</summary>
    public ParkedConnection? Parked { get; private set; }

    /// <inheritdoc/>
    /// <remarks>
    /// The accepted socket itself can be parked, by the first supervisor, or a TLS session over it that can be detached
    /// (<see cref="TlsTransport.CanPark"/>), by the supervisor it was handed to; not once the proxy is stopping. The
    /// socket is disposed here, on the caller's thread; the listener adds the connection to the parking lot when the
    /// supervisor has returned, so that it is resumed only once this session has ended.
    /// </remarks>
    public bool TryPark(TimeSpan? timeout)
    {
        if (!CanPark(out ParkingLot? parking))
        {
            return false;
        }

        // A TLS session first stops using its socket, and only if it waits with nothing buffered.
        TlsTransport? tls = Transport as TlsTransport;
        DetachedTls? detached = tls?.TryDetach();
        if (tls is not null && detached is null)
        {
            return false;
        }

        int fd = parking.Detach(Connection.Socket, out byte[] linger);
        if (fd < 0)
        {
            tls?.CancelDetach();
            return false;
        }

        long deadline = timeout is { } t ? Environment.TickCount64 + (long)t.TotalMilliseconds : long.MaxValue;
        Parked = new ParkedConnection(fd, _listener, Connection.WithSocket(null), Id, deadline) { Tls = detached };
        ParkingLot.Release(Connection.Socket, fd, linger);
        HandOffParked();
        return true;
    }

    /// <inheritdoc/>
    /// <remarks>Both sockets must be plain; the server connection must be one the host made (its server's counts move with it).</remarks>
    public bool TryParkJoined(ServerConnection server, TimeSpan? timeout, SessionTermination timeoutTermination)
    {
        if (!CanPark(out ParkingLot? parking) || Transport is not SocketTransport || server is not TrackedServerConnection tracked
            || tracked.Transport is not SocketTransport || tracked.Server is not Server counted)
        {
            return false;
        }

        // Both duplicated before either leaves the runtime: a failure leaves both sockets working as they were.
        byte[] serverLinger = [];
        int clientFd = ParkingLot.Duplicate(Connection.Socket, out byte[] clientLinger);
        int serverFd = clientFd < 0 ? -1 : ParkingLot.Duplicate(tracked.Socket, out serverLinger);
        if (serverFd < 0)
        {
            if (clientFd >= 0)
            {
                ParkingLot.CloseDescriptor(clientFd);
            }

            return false;
        }

        parking.LeaveRuntime(Connection.Socket);
        parking.LeaveRuntime(tracked.Socket);

        long deadline = timeout is { } t ? Environment.TickCount64 + (long)t.TotalMilliseconds : long.MaxValue;
        Parked = new ParkedConnection(clientFd, _listener, Connection.WithSocket(null), Id, deadline)
        {
            ServerFd = serverFd,
            Server = counted,
            Log = Log,
            TimeoutTermination = timeoutTermination,
        };
        tracked.Detach();
        ParkingLot.Release(Connection.Socket, clientFd, clientLinger);
        ParkingLot.Release(tracked.Socket, serverFd, serverLinger);
        HandOffParked();
        return true;
    }

    private bool CanPark([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ParkingLot? parking)
    {
        parking = _listener.Parking;
        bool parkable = Transport switch
        {
            SocketTransport => _level == 0,
            TlsTransport { CanPark: true } => _level > 0,
            _ => false,
        };
        return parking is not null && parkable && Connection.HasSocket && ReferenceEquals(Transport.Socket, Connection.Socket)
            && Parked is null && !Stopping.IsCancellationRequested;
    }

    private int _parkHandOff;

    /// <summary>
    /// Called twice once the connection is parked: when <see cref="TryPark"/> has put the connection back in order, and
    /// when the session has ended (its supervisor returned). The second call hands it to the parking lot.
    /// </summary>
    public void HandOffParked()
    {
        if (Interlocked.Increment(ref _parkHandOff) == 2)
        {
            _listener.Park(Parked!);
        }
    }

    /// <summary>Releases what the session held, when it ends.</summary>
    public void End()
    {
        foreach (Tables.StickEntry entry in _connectionEntries ?? [])
        {
            entry.AddConnections(-1);
        }

        _streamPipeline.Release();
        foreach (SupervisorLevel level in _levels)
        {
            level.Owner.Release();
        }
    }
}
