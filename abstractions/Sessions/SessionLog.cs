namespace PluginProxy.Abstractions;

/// <summary>
/// What a supervisor records about a session for its one log line, written by the host when the session ends.
/// Fields are plain and mutable: the supervisor owns the session while it runs.
/// </summary>
public sealed class SessionLog
{
    /// <summary>The backend that served the session, or null if none was reached.</summary>
    public string? Backend { get; set; }

    /// <summary>The server that served the session, or null if none was reached.</summary>
    public string? Server { get; set; }

    /// <summary>Bytes received from the client.</summary>
    public long BytesFromClient { get; set; }

    /// <summary>Bytes received from the server (and sent on to the client).</summary>
    public long BytesFromServer { get; set; }

    /// <summary>Connection attempts that failed before one succeeded or the supervisor gave up.</summary>
    public int Retries { get; set; }

    /// <summary>Time spent connecting to the server that answered, or null if none did.</summary>
    public TimeSpan? ConnectTime { get; set; }

    /// <summary>How the session ended. Supervisors set it; <see cref="SessionTermination.Normal"/> until they say otherwise.</summary>
    public SessionTermination Termination { get; set; }

    /// <summary>
    /// Set by supervisors that write their own line per stream (an HTTP access log): the host then writes no session line.
    /// </summary>
    public bool LoggedByStreams { get; set; }

    /// <summary>An optional short detail for the log line (an exception message, the analyzer that stopped the stream).</summary>
    public string? Detail { get; set; }

    /// <summary>
    /// Records the end of the session unless an earlier, more specific cause was already recorded.
    /// Use it where several paths race to report the end (a timeout that closes sockets makes the pumps fail as well).
    /// </summary>
    /// <returns>True when this call set the termination.</returns>
    public bool TrySetTermination(SessionTermination termination, string? detail = null)
    {
        if (Termination != SessionTermination.Normal)
        {
            return false;
        }

        Termination = termination;
        Detail ??= detail;
        return true;
    }
}
