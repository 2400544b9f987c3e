using PluginProxy.Abstractions;

namespace PluginProxy.Host.Sessions;

/// <summary>One stream's reference on a listener pipeline: the analyzer versions it runs with stay loaded until it is disposed.</summary>
internal sealed class StreamPipelineLease(ListenerPipeline pipeline) : IStreamAnalyzers
{
    private int _released;

    public IReadOnlyList<IFlowAnalyzer> RequestAnalyzers => pipeline.RequestAnalyzers;

    public IReadOnlyList<IFlowAnalyzer> ResponseAnalyzers => pipeline.ResponseAnalyzers;

    public IReadOnlyList<IFlowAnalyzer> AfterResponseAnalyzers => pipeline.AfterResponseAnalyzers;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            pipeline.Release();
        }
    }
}
