namespace PluginProxy.Abstractions;

/// <summary>
/// A stream's place on a server (<see cref="IBackend.AcquireAsync"/>): the server it may use and, when that server has a
/// <c>maxconn</c>, one of its slots, held until <see cref="Release"/>. Or, when there is no server, why
/// (<see cref="Failure"/>). A lease for a server without <c>maxconn</c> counts nothing and its release does nothing.
/// </summary>
/// <remarks>
/// A lease is a value: copies share the one slot. Release it exactly once, when the stream no longer uses the server
/// (its end, an error, an abort), and forget it then (assign <c>default</c>); releasing a default lease does nothing.
/// </remarks>
public readonly struct ServerLease
{
    private readonly IServerSlot? _slot;

    /// <summary>A lease on <paramref name="server"/>.</summary>
    /// <param name="server">The server the stream may use.</param>
    /// <param name="slot">The slot taken on it (its <c>maxconn</c> counts it), or null when nothing is counted.</param>
    /// <param name="queueTime">How long the stream waited in a queue for it.</param>
    public ServerLease(IServer server, IServerSlot? slot, TimeSpan queueTime)
    {
        ArgumentNullException.ThrowIfNull(server);
        Server = server;
        _slot = slot;
        QueueTime = queueTime;
        Failure = SessionTermination.Normal;
    }

    private ServerLease(SessionTermination failure, string detail, TimeSpan queueTime)
    {
        Failure = failure;
        Detail = detail;
        QueueTime = queueTime;
    }

    /// <summary>No server for the stream: <paramref name="failure"/> says why (<see cref="SessionTermination.NoServer"/>, <see cref="SessionTermination.QueueTimeout"/>).</summary>
    public static ServerLease Failed(SessionTermination failure, string detail, TimeSpan queueTime) => new(failure, detail, queueTime);

    /// <summary>The server, or null when there is none (<see cref="Failure"/> says why).</summary>
    public IServer? Server { get; }

    /// <summary>True when the lease names a server.</summary>
    public bool IsHeld => Server is not null;

    /// <summary>True when the lease holds a counted slot (its server has a <c>maxconn</c>).</summary>
    public bool IsCounted => _slot is not null;

    /// <summary>How long the stream waited in a queue (zero when a slot was free at once).</summary>
    public TimeSpan QueueTime { get; }

    /// <summary><see cref="SessionTermination.Normal"/> when <see cref="IsHeld"/>, else why there is no server.</summary>
    public SessionTermination Failure { get; }

    /// <summary>When there is no server: a short description for logs (<c>queue timeout after 5000ms</c>), else null.</summary>
    public string? Detail { get; }

    /// <summary>Gives the slot back (the oldest stream waiting for it takes it). Call once.</summary>
    public void Release() => _slot?.Release();
}
