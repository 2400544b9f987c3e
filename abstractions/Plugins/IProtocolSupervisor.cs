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

    /// <summary>
    /// The supervisor this one stacks on, by name, or null. A stacking supervisor prepares the connection (the
    /// <c>https</c> supervisor completes the TLS handshake) and then calls <see cref="ISession.RunNextAsync"/>: the named
    /// supervisor (<c>http</c>) runs the session over the new transport. The host resolves the name when it builds the
    /// listener's pipeline and keeps that plugin version loaded for the session, as it does for this one.
    /// </summary>
    string? Next => null;

    /// <summary>
    /// True for a supervisor that terminates TLS and so needs the listener's <c>[listener.tls]</c>
    /// (<see cref="ListenerSettings.Tls"/>): the host refuses a listener naming it without one, and a listener with one
    /// whose supervisor is not such.
    /// </summary>
    bool TerminatesTls => false;
}
