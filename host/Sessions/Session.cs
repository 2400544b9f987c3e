using PluginProxy.Abstractions;
using PluginProxy.Host.Accept;
using PluginProxy.Host.Plugins;

namespace PluginProxy.Host.Sessions;

/// <summary>
/// The host's record of one client connection, handed to the supervisor. It keeps the version of the plugin (or script)
/// its supervisor comes from loaded for its whole life, and holds the pipeline its current stream's analyzers come from:
/// <see cref="BeginStream"/> moves to the listener's current one, so a keep-alive connection does not pin old versions.
/// </summary>
internal sealed class Session : ISession
{
    private readonly Listener _listener;
    private readonly RefCounted _supervisorOwner;
    private ListenerPipeline _streamPipeline;

    /// <param name="pipeline">The pipeline the session was accepted with, with a reference the session now owns.</param>
    public Session(long id, AcceptedConnection connection, Listener listener, ListenerPipeline pipeline, CancellationToken stopping, CancellationToken aborted)
    {
        Id = id;
        Connection = connection;
        _listener = listener;
        Supervisor = pipeline.Supervisor;
        SupervisorName = pipeline.Config.Supervisor.Name;
        Listener = pipeline.Settings;
        Backends = pipeline.Backends;
        _streamPipeline = pipeline;
        // The pipeline holds a reference on the supervisor's owner: taking one more cannot fail.
        _supervisorOwner = pipeline.SupervisorOwner;
        _supervisorOwner.TryAcquire();
        Stopping = stopping;
        Aborted = aborted;
    }

    public long Id { get; }

    public AcceptedConnection Connection { get; }

    /// <summary>The supervisor running this session.</summary>
    public IProtocolSupervisor Supervisor { get; }

    /// <summary>The supervisor's name as the configuration gives it.</summary>
    public string SupervisorName { get; }

    /// <summary>What provides the supervisor: a plugin or a script, with its version.</summary>
    public string SupervisorOrigin => _supervisorOwner.ToString() ?? "";

    public ListenerSettings Listener { get; }

    public IBackendCatalog Backends { get; }

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

        ListenerPipeline previous = _streamPipeline;
        _streamPipeline = _listener.AcquirePipeline();
        previous.Release();
    }

    /// <summary>Releases what the session held, when it ends.</summary>
    public void End()
    {
        _streamPipeline.Release();
        _supervisorOwner.Release();
    }
}
