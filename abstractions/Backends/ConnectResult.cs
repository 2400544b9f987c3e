namespace PluginProxy.Abstractions;

/// <summary>The outcome of the connect methods of <see cref="IServerConnector"/>: a connection, or why there is none.</summary>
public readonly struct ConnectResult
{
    /// <summary>Creates a result.</summary>
    public ConnectResult(ServerConnection? connection, SessionTermination failure, int retries, TimeSpan connectTime, string? detail)
    {
        Connection = connection;
        Failure = failure;
        Retries = retries;
        ConnectTime = connectTime;
        Detail = detail;
    }

    /// <summary>The connection, or null when every attempt failed.</summary>
    public ServerConnection? Connection { get; }

    /// <summary>When <see cref="Connection"/> is null: <see cref="SessionTermination.NoServer"/>, <see cref="SessionTermination.ServerRefused"/> or <see cref="SessionTermination.ConnectTimeout"/>.</summary>
    public SessionTermination Failure { get; }

    /// <summary>How many attempts failed before the last one.</summary>
    public int Retries { get; }

    /// <summary>The duration of the successful attempt (zero when none succeeded).</summary>
    public TimeSpan ConnectTime { get; }

    /// <summary>A short description of the last failure, for logs, or null.</summary>
    public string? Detail { get; }

    /// <summary>
    /// With <see cref="IServerConnector.ConnectAsync(IBackend, ServerLease, ServerSelection, CancellationToken)"/>: the
    /// lease held now (on the connection's server, or the last one tried), which the caller releases; else default.
    /// </summary>
    public ServerLease Lease { get; init; }

    /// <summary>True when a connection was made.</summary>
    public bool Succeeded => Connection is not null;
}
