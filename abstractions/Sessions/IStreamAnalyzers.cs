namespace PluginProxy.Abstractions;

/// <summary>
/// The analyzers one stream runs with, held for that stream alone (<see cref="ISession.AcquireStreamAnalyzers"/>): a
/// supervisor that runs several streams of one connection at once (HTTP/2) takes one per stream, so a reloaded script or
/// plugin serves the streams that start after the reload while each running stream finishes on the version it started
/// with. Disposing it lets that version go once no other stream holds it.
/// </summary>
public interface IStreamAnalyzers : IDisposable
{
    /// <summary>The request analyzers, in the listener's order.</summary>
    IReadOnlyList<IFlowAnalyzer> RequestAnalyzers { get; }

    /// <summary>The response analyzers, in the listener's order (the after-response ones last).</summary>
    IReadOnlyList<IFlowAnalyzer> ResponseAnalyzers { get; }

    /// <summary>The listener's after-response analyzers (the tail of <see cref="ResponseAnalyzers"/>).</summary>
    IReadOnlyList<IFlowAnalyzer> AfterResponseAnalyzers { get; }
}
