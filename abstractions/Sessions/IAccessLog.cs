namespace PluginProxy.Abstractions;

/// <summary>
/// The access log: one line per stream (or session), written in order to the proxy's output without allocating.
/// Provided by the host; supervisors receive it by injection.
/// </summary>
public interface IAccessLog
{
    /// <summary>Whether lines are written at all (false when logging is turned down); skip formatting when false.</summary>
    bool IsEnabled { get; }

    /// <summary>Writes one line (without its line ending). The characters are copied before this returns.</summary>
    void Write(ReadOnlySpan<char> line);
}
