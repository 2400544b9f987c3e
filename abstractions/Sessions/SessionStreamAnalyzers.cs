namespace PluginProxy.Abstractions;

/// <summary>The analyzers of a session that holds nothing per stream (see <see cref="ISession.AcquireStreamAnalyzers"/>).</summary>
internal sealed class SessionStreamAnalyzers(
    IReadOnlyList<IFlowAnalyzer> request, IReadOnlyList<IFlowAnalyzer> response, IReadOnlyList<IFlowAnalyzer> afterResponse) : IStreamAnalyzers
{
    public IReadOnlyList<IFlowAnalyzer> RequestAnalyzers => request;

    public IReadOnlyList<IFlowAnalyzer> ResponseAnalyzers => response;

    public IReadOnlyList<IFlowAnalyzer> AfterResponseAnalyzers => afterResponse;

    public void Dispose()
    {
    }
}
