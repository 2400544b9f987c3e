using System.Net.Sockets;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Logging;

/// <summary>
/// Where the traffic log's batches of lines are written (by its writer thread only): standard output or error, a
/// file, or a syslog socket. Every line of a batch ends with <c>\n</c> and holds no other line ending.
/// </summary>
internal abstract class LogDestination : IDisposable
{
    /// <summary>How messages name the destination (as <c>access_log_target</c> writes it).</summary>
    public abstract string Name { get; }

    /// <summary>Writes a batch of lines. Throws <see cref="IOException"/> or <see cref="SocketException"/> when it cannot.</summary>
    public abstract void Write(ReadOnlySpan<byte> batch);

    /// <summary>Opens the destination's file again (after logrotate moved it); false when there is nothing to reopen.</summary>
    /// <exception cref="IOException">The file cannot be opened again; the one already open stays.</exception>
    public virtual bool Reopen() => false;

    public abstract void Dispose();

    /// <summary>Opens <paramref name="target"/>.</summary>
    /// <exception cref="IOException">A file cannot be opened.</exception>
    /// <exception cref="UnauthorizedAccessException">A file may not be written.</exception>
    /// <exception cref="SocketException">A syslog socket cannot be made.</exception>
    public static LogDestination Open(AccessLogTarget target) => target.Kind switch
    {
        AccessLogTargetKind.Stdout => new StreamDestination("stdout", Console.OpenStandardOutput()),
        AccessLogTargetKind.Stderr => new StreamDestination("stderr", Console.OpenStandardError()),
        AccessLogTargetKind.File => new FileDestination(target.Path!),
        _ => SyslogDestination.Create(target),
    };
}
