using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Logging;

/// <summary>
/// The host's traffic log: one line per HTTP stream (<see cref="IAccessLog"/>) and per tcp session
/// (<see cref="ISessionLines"/>), in the configured format (<c>access_log_format</c>), with the headers each listener
/// captures, to the configured destination (<c>access_log_target</c>: standard output by default, a file, syslog).
/// Writing a line allocates nothing (the text line is formatted on the stack, the JSON one in a buffer the thread
/// keeps); a thread of the destination's own writes the lines out (<see cref="LogChannel"/>).
/// </summary>
/// <remarks>
/// A configuration reload applies at once: new captures and format to the next line; a new target is opened while the
/// reload can still be refused (<see cref="Prepare"/>), then swapped in (<see cref="Apply"/>), and the old one closes
/// after writing what it holds. SIGUSR1 opens a file target again (logrotate moves the file, then signals).
/// </remarks>
internal sealed class AccessLogWriter : IAccessLog, ISessionLines, IDisposable
{
    /// <summary>SIGUSR1 on Linux: PosixSignal names no such member, but a raw signal number is accepted.</summary>
    private const PosixSignal SigUsr1 = (PosixSignal)10;

    private readonly ILogger _log;
    private readonly bool _sessionsEnabled;
    private readonly bool _refusedEnabled;
    private readonly PosixSignalRegistration? _reopenSignal;
    private volatile State _state;

    private AccessLogWriter(ILogger log, bool accessEnabled, bool sessionsEnabled, bool refusedEnabled, State state)
    {
        _log = log;
        IsEnabled = accessEnabled;
        _sessionsEnabled = sessionsEnabled;
        _refusedEnabled = refusedEnabled;
        _state = state;
        try
        {
            // Also keeps SIGUSR1 from ending the process (its default action) when the target is not a file, or when
            // no line is written (a log level above Information): a logrotate rule may send it all the same.
            _reopenSignal = PosixSignalRegistration.Create(SigUsr1, context =>
            {
                context.Cancel = true;
                Reopen();
            });
        }
        catch (PlatformNotSupportedException)
        {
            // Not a Unix: nothing sends SIGUSR1.
        }
    }

    /// <summary>The configuration's traffic log, and the lines written since the last one.</summary>
    private sealed record State(AccessLogConfig Config, LogChannel? Channel, LinePrefix Prefix, Dictionary<string, HeaderCapture> Captures);

    public bool IsEnabled { get; }

    /// <summary>Where lines go now, as <c>access_log_target</c> writes it.</summary>
    public AccessLogTarget Target => _state.Config.Target;

    /// <summary>Lines dropped because the destination could not keep up.</summary>
    public long Dropped => _state.Channel?.Dropped ?? 0;

    /// <summary>
    /// Why the target could not be opened (at <c>access_log_target</c>), or null: the host must not start then; it
    /// reports this with the configuration's other problems.
    /// </summary>
    public ConfigError? OpenError { get; private init; }

    /// <summary>
    /// Opens the traffic log <paramref name="config"/> names. Its destination is opened only when lines are wanted
    /// (the categories PluginProxy.Access or PluginProxy.Session log at information level): <c>check</c> opens nothing.
    /// A destination that cannot be opened leaves the writer without one, and says why in <see cref="OpenError"/>.
    /// </summary>
    public static AccessLogWriter Open(ProxyConfig config, ILoggerFactory loggers)
    {
        ILogger log = loggers.CreateLogger("PluginProxy.AccessLog");
        ILogger sessions = loggers.CreateLogger("PluginProxy.Session");
        bool access = loggers.CreateLogger("PluginProxy.Access").IsEnabled(LogLevel.Information);
        bool ended = sessions.IsEnabled(LogLevel.Information);
        LogChannel? channel = null;
        var errors = new List<ConfigError>();
        if (access || ended)
        {
            channel = OpenChannel(config, log, errors);
        }

        return new AccessLogWriter(log, access, ended, sessions.IsEnabled(LogLevel.Warning), NewState(config, channel)) { OpenError = errors.FirstOrDefault() };
    }

    /// <summary>
    /// For a reload: opens the target of <paramref name="next"/> when it is not the one in use, or returns null (nothing
    /// to open, or it failed: the error is added to <paramref name="errors"/>, at <c>access_log_target</c>). The
    /// channel returned is handed to <see cref="Apply"/>, or disposed if the reload is refused.
    /// </summary>
    public LogChannel? Prepare(ProxyConfig next, List<ConfigError> errors)
    {
        State current = _state;
        return current.Channel is null || next.Global.AccessLog.Target.Equals(current.Config.Target) ? null : OpenChannel(next, _log, errors);
    }

    /// <summary>Puts <paramref name="next"/>'s settings in place; <paramref name="opened"/> (from <see cref="Prepare"/>) replaces the destination.</summary>
    public void Apply(ProxyConfig next, LogChannel? opened)
    {
        State previous = _state;
        _state = NewState(next, opened ?? previous.Channel);
        if (opened is not null)
        {
            previous.Channel?.Dispose();
            TrafficLog.TargetChanged(_log, opened.Name, next.Global.AccessLog.Format == AccessLogFormat.Json ? "json" : "text");
        }
    }

    /// <summary>Opens the file target again (SIGUSR1); nothing for another target.</summary>
    public void Reopen() => _state.Channel?.RequestReopen();

    public void Write(ReadOnlySpan<char> line)
    {
        State state = _state;
        if (!IsEnabled || state.Channel is null)
        {
            return;
        }

        if (state.Config.Format == AccessLogFormat.Json)
        {
            JsonLine json = JsonLine.Start();
            AccessLogJson.WriteMessage(json.Writer, line);
            state.Channel.Append(state.Prefix, LineKind.Access, json.Written);
        }
        else
        {
            state.Channel.Append(state.Prefix, LineKind.Access, line);
        }
    }

    public void Write(in AccessRecord record)
    {
        State state = _state;
        if (!IsEnabled || !record.Logged || state.Channel is null)
        {
            return;
        }

        state.Captures.TryGetValue(record.Listener, out HeaderCapture? capture);
        if (state.Config.Format == AccessLogFormat.Json)
        {
            JsonLine json = JsonLine.Start();
            AccessLogJson.WriteHttp(json.Writer, record, capture);
            state.Channel.Append(state.Prefix, LineKind.Access, json.Written);
            return;
        }

        Span<char> captures = stackalloc char[capture is null ? 0 : CaptureText.MaxLength];
        int captured = capture is null ? 0 : CaptureText.Format(record, capture, captures);
        Span<char> line = stackalloc char[AccessLogText.MaxLength + captured];
        state.Channel.Append(state.Prefix, LineKind.Access, line[..AccessLogText.Format(record, line, captures[..captured])]);
    }

    public void SessionEnded(AcceptedConnection connection, SessionLog log, long endTimestamp)
    {
        if (_sessionsEnabled)
        {
            WriteSession(LineKind.Session, connection, log, endTimestamp);
        }
    }

    public void ConnectionRefused(AcceptedConnection connection, SessionLog log, long endTimestamp)
    {
        if (_refusedEnabled)
        {
            WriteSession(LineKind.Refused, connection, log, endTimestamp);
        }
    }

    private void WriteSession(LineKind kind, AcceptedConnection connection, SessionLog log, long endTimestamp)
    {
        State state = _state;
        if (state.Channel is null)
        {
            return;
        }

        if (state.Config.Format == AccessLogFormat.Json)
        {
            JsonLine json = JsonLine.Start();
            AccessLogJson.WriteSession(json.Writer, connection, log, endTimestamp);
            state.Channel.Append(state.Prefix, kind, json.Written);
        }
        else
        {
            state.Channel.Append(state.Prefix, kind, SessionLogFormatter.Format(connection, log, endTimestamp));
        }
    }

    private static State NewState(ProxyConfig config, LogChannel? channel)
    {
        var captures = new Dictionary<string, HeaderCapture>(StringComparer.Ordinal);
        foreach (ListenerConfig listener in config.Listeners)
        {
            if (!listener.Capture.IsEmpty)
            {
                captures[listener.Name] = listener.Capture;
            }
        }

        return new State(config.Global.AccessLog, channel, new LinePrefix(config.Global.AccessLog), captures);
    }

    private static LogChannel? OpenChannel(ProxyConfig config, ILogger log, List<ConfigError> errors)
    {
        AccessLogConfig settings = config.Global.AccessLog;
        try
        {
            return new LogChannel(LogDestination.Open(settings.Target), log);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or SocketException)
        {
            errors.Add(new ConfigError(settings.TargetSpot ?? new SourceSpot(config.FilePath, 1, 1), $"`access_log_target`: cannot open {settings.Target}: {ex.Message}"));
            return null;
        }
    }

    public void Dispose()
    {
        _reopenSignal?.Dispose();
        _state.Channel?.Dispose();
    }
}
