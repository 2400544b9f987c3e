using PluginProxy.Abstractions;
using PluginProxy.Host.Accept;

namespace PluginProxy.Host.Sessions;

/// <summary>
/// The host's record of one client connection, handed to the supervisor. It holds the pipeline it was accepted with for
/// its whole life (the supervisor's code comes from it), and the pipeline its current stream's analyzers come from.
/// </summary>
internal sealed class Session : ISession
{
    private readonly Listener _listener;
    private ListenerPipeline _streamPipeline;

    public Session(long id, AcceptedConnection connection, Listener listener, ListenerPipeline pipeline, CancellationToken stopping, CancellationToken aborted)
    {
        Id = id;
        Connection = connection;
        _listener = listener;
        Pipeline = pipeline;
        _streamPipeline = pipeline;
        Stopping = stopping;
        Aborted = aborted;
    }

    public long Id { get; }

    public AcceptedConnection Connection { get; }

    /// <summary>The pipeline the session was accepted with: its supervisor runs the session.</summary>
    public ListenerPipeline Pipeline { get; }

    public ListenerSettings Listener => Pipeline.Settings;

    public IBackendCatalog Backends => Pipeline.Backends;

    public IReadOnlyList<IFlowAnalyzer> RequestAnalyzers => _streamPipeline.RequestAnalyzers;

    public IReadOnlyList<IFlowAnalyzer> ResponseAnalyzers => _streamPipeline.ResponseAnalyzers;

    public SessionLog Log { get; } = new();

    public CancellationToken Stopping { get; }

    public CancellationToken Aborted { get; }

    /// <summary>Moves the next stream to the listener's current analyzers (a reloaded script or plugin), if they changed.</summary>
    public void BeginStream()
    {
        if (ReferenceEquals(_listener.Pipeline, _streamPipeline))
        {
            return;
        }

        ListenerPipeline current = _listener.AcquirePipeline();
        ListenerPipeline previous = _streamPipeline;
        _streamPipeline = current;
        if (!ReferenceEquals(previous, Pipeline))
        {
            previous.Release();
        }
    }

    /// <summary>Drops the stream pipeline's reference when the session ends (the session pipeline is the listener's to drop).</summary>
    public void End()
    {
        if (!ReferenceEquals(_streamPipeline, Pipeline))
        {
            _streamPipeline.Release();
            _streamPipeline = Pipeline;
        }
    }
}
