using PluginProxy.Abstractions;

namespace PluginProxy.Host.Sessions;

/// <summary>The host's record of one client connection, handed to the supervisor.</summary>
internal sealed class Session : ISession
{
    public Session(long id, AcceptedConnection connection, ListenerPipeline pipeline, CancellationToken stopping, CancellationToken aborted)
    {
        Id = id;
        Connection = connection;
        Pipeline = pipeline;
        Stopping = stopping;
        Aborted = aborted;
    }

    public long Id { get; }

    public AcceptedConnection Connection { get; }

    public ListenerPipeline Pipeline { get; }

    public ListenerSettings Listener => Pipeline.Settings;

    public IBackendCatalog Backends => Pipeline.Backends;

    public IReadOnlyList<IFlowAnalyzer> RequestAnalyzers => Pipeline.RequestAnalyzers;

    public IReadOnlyList<IFlowAnalyzer> ResponseAnalyzers => Pipeline.ResponseAnalyzers;

    public SessionLog Log { get; } = new();

    public CancellationToken Stopping { get; }

    public CancellationToken Aborted { get; }
}
