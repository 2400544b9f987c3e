using Microsoft.Extensions.Logging;

namespace PluginProxy.Host.Accept;

/// <summary>The log lines of listeners and their accept loops: event ids 1000–1999 (docs/logging.md).</summary>
internal static partial class AcceptLog
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Listener {Listener} ({Supervisor}) accepting on {Addresses}, maxconn {MaxConn}")]
    public static partial void Accepting(ILogger logger, string listener, string supervisor, string addresses, int maxConn);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Listener {Listener}: could not apply the new socket options to {Address}: {Error}")]
    public static partial void SocketOptionsNotApplied(ILogger logger, string listener, string address, System.Net.Sockets.SocketError error);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Error, Message = "Listener {Listener} failed to accept: {Error}")]
    public static partial void AcceptFailed(ILogger logger, string listener, System.Net.Sockets.SocketError error);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Error, Message = "Supervisor \"{Supervisor}\" from {Origin} failed in session {Session} of listener {Listener}")]
    public static partial void SupervisorFailed(ILogger logger, Exception exception, string supervisor, string origin, long session, string listener);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Error, Message = "Accept failed on listener {Listener}")]
    public static partial void AcceptThrew(ILogger logger, Exception exception, string listener);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Warning, Message = "Idle client connections cannot be parked here, each keeps its session: {Reason}")]
    public static partial void ParkingUnavailable(ILogger logger, string reason);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Information, Message = "{Parked} idle connections parked: heap compacted from {BeforeMb:F1} to {AfterMb:F1} MB in {Milliseconds:F0} ms")]
    public static partial void HeapTrimmed(ILogger logger, int parked, double beforeMb, double afterMb, double milliseconds);

    /// <summary>A session's line when it ends (the session log, category PluginProxy.Session).</summary>
    [LoggerMessage(EventId = 1010, Level = LogLevel.Information, Message = "{Line}")]
    public static partial void SessionEnded(ILogger logger, string line);

    /// <summary>A connection refused before it became a session (maxconn, a PROXY header that failed).</summary>
    [LoggerMessage(EventId = 1011, Level = LogLevel.Warning, Message = "{Line}")]
    public static partial void ConnectionRefused(ILogger logger, string line);
}
