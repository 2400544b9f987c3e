namespace PluginProxy.Abstractions;

/// <summary>
/// Owns a session after the generic accept: creates its channels, runs the flow analyzers, connects to servers,
/// moves data and switches states until the session ends. One instance serves all sessions of every listener that names it.
/// </summary>
/// <remarks>
/// <see cref="RunAsync"/> may run on the socket event thread: never block. An exception ends only this session;
/// the host logs it, records <see cref="SessionTermination.InternalError"/>, and closes the client socket.
/// </remarks>
public interface IProtocolSupervisor
{
    /// <summary>Runs <paramref name="session"/> until it ends. The host closes the client socket and writes the session's log line afterwards.</summary>
    ValueTask RunAsync(ISession session);
}
