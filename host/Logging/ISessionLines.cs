using PluginProxy.Abstractions;

namespace PluginProxy.Host.Logging;

/// <summary>Where the line of a tcp session that ended (or of a connection refused before it became one) goes.</summary>
internal interface ISessionLines
{
    /// <summary>A session ended (one not logged by its streams).</summary>
    void SessionEnded(AcceptedConnection connection, SessionLog log, long endTimestamp);

    /// <summary>A connection was refused before it became a session (a PROXY header that failed).</summary>
    void ConnectionRefused(AcceptedConnection connection, SessionLog log, long endTimestamp);
}
