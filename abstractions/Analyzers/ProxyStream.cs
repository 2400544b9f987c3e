namespace PluginProxy.Abstractions;

/// <summary>
/// One request/response exchange of a session (in TCP mode the whole session is one stream): its two channels,
/// the backend chosen for it and the variables its analyzers share. Not a <see cref="System.IO.Stream"/>.
/// </summary>
/// <remarks>
/// A supervisor may reuse one instance for the successive streams of a session, calling <see cref="Reset"/> between them.
/// </remarks>
public sealed class ProxyStream
{
    private Dictionary<string, object?>? _variables;
    private IStreamEndObserver? _observer;
    private List<IStreamEndObserver>? _moreObservers;

    /// <summary>Creates a stream of <paramref name="session"/> with its two channels.</summary>
    public ProxyStream(ISession session, Channel request, Channel response)
    {
        Session = session;
        Request = request;
        Response = response;
    }

    /// <summary>The session this stream belongs to.</summary>
    public ISession Session { get; }

    /// <summary>The request channel (client to server).</summary>
    public Channel Request { get; }

    /// <summary>The response channel (server to client).</summary>
    public Channel Response { get; }

    /// <summary>The number of this stream within its session, from 1.</summary>
    public long Number { get; private set; } = 1;

    /// <summary>
    /// The backend this stream goes to. Starts as the listener's default backend; analyzers may change it
    /// (routing) until the supervisor connects to a server.
    /// </summary>
    public IBackend? Backend { get; set; }

    /// <summary>
    /// The key <c>balance = "hash"</c> with <c>hash_key = "script"</c> hashes for this stream, set by an analyzer or a
    /// script (<c>Rule.HashKey</c>) before the server is picked; null (the default, again for each stream) balances the
    /// stream round robin.
    /// </summary>
    public string? HashKey { get; set; }

    /// <summary>The HTTP message of this stream (version-independent), when an HTTP supervisor runs it; null in tcp mode.</summary>
    public Http.HttpExchange? Http { get; set; }

    /// <summary>Variables shared by the analyzers and scripts of this stream, created on first use. Keys are case-sensitive.</summary>
    public IDictionary<string, object?> Variables => _variables ??= new Dictionary<string, object?>(StringComparer.Ordinal);

    /// <summary>True when some analyzer stored a variable in this stream.</summary>
    public bool HasVariables => _variables is { Count: > 0 };

    /// <summary>True when some analyzer asked to be told when this stream ends (<see cref="OnEnded"/>).</summary>
    public bool HasEndObservers => _observer is not null;

    /// <summary>
    /// Asks that <paramref name="observer"/> be told once when this stream ends, with its log entry. Registering the same
    /// observer again does nothing (an analyzer may run more than once per stream). One observer costs no allocation.
    /// </summary>
    public void OnEnded(IStreamEndObserver observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        if (_observer is null)
        {
            _observer = observer;
        }
        else if (!ReferenceEquals(_observer, observer) && !(_moreObservers?.Contains(observer) ?? false))
        {
            (_moreObservers ??= []).Add(observer);
        }
    }

    /// <summary>
    /// For supervisors: tells every end observer that the stream ended, once (they are forgotten afterwards). Each is
    /// called even when one before it throws.
    /// </summary>
    /// <param name="entry">What the access log records about the stream.</param>
    /// <returns>The first exception an observer threw, for the supervisor to log; null when none did.</returns>
    public Exception? NotifyEnded(Http.HttpLogEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        IStreamEndObserver? first = _observer;
        _observer = null;
        Exception? failure = first is null ? null : Notify(first, entry);
        if (_moreObservers is { Count: > 0 } more)
        {
            foreach (IStreamEndObserver observer in more)
            {
                Exception? thrown = Notify(observer, entry);
                failure ??= thrown;
            }

            more.Clear();
        }

        return failure;
    }

    private Exception? Notify(IStreamEndObserver observer, Http.HttpLogEntry entry)
    {
        try
        {
            observer.OnStreamEnded(this, entry);
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }

    /// <summary>
    /// Prepares the instance for the next stream of the same session: clears variables, end observers and the hash key,
    /// restores the default backend.
    /// </summary>
    /// <param name="defaultBackend">The backend the next stream starts with.</param>
    public void Reset(IBackend? defaultBackend)
    {
        _variables?.Clear();
        _observer = null;
        _moreObservers?.Clear();
        Backend = defaultBackend;
        HashKey = null;
        Number++;
    }
}
