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

    /// <summary>The HTTP message of this stream (version-independent), when an HTTP supervisor runs it; null in tcp mode.</summary>
    public Http.HttpExchange? Http { get; set; }

    /// <summary>Variables shared by the analyzers and scripts of this stream, created on first use. Keys are case-sensitive.</summary>
    public IDictionary<string, object?> Variables => _variables ??= new Dictionary<string, object?>(StringComparer.Ordinal);

    /// <summary>True when some analyzer stored a variable in this stream.</summary>
    public bool HasVariables => _variables is { Count: > 0 };

    /// <summary>Prepares the instance for the next stream of the same session: clears variables, restores the default backend.</summary>
    /// <param name="defaultBackend">The backend the next stream starts with.</param>
    public void Reset(IBackend? defaultBackend)
    {
        _variables?.Clear();
        Backend = defaultBackend;
        Number++;
    }
}
