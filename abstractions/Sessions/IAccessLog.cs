namespace PluginProxy.Abstractions;

/// <summary>
/// The access log: one record per stream (or session), written in order to the proxy's log destination (stdout, a file
/// or syslog) in the configured format, and counted in the metrics. Provided by the host; supervisors receive it by injection.
/// </summary>
public interface IAccessLog
{
    /// <summary>Whether records are wanted at all (false when both logging and metrics are off); skip building them when false.</summary>
    bool IsEnabled { get; }

    /// <summary>Writes one line of the supervisor's own making (without its line ending). The characters are copied before this returns.</summary>
    void Write(ReadOnlySpan<char> line);

    /// <summary>Logs and counts one finished stream. Nothing in <paramref name="record"/> is kept after this returns.</summary>
    void Write(in AccessRecord record);
}
