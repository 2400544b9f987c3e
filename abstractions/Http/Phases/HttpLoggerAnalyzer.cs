namespace PluginProxy.Abstractions.Http;

/// <summary>
/// Runs an <see cref="IHttpLogger"/> from the listener's analyzer chain: where it is listed, it asks the stream to tell it
/// when it ends (<see cref="ProxyStream.OnEnded"/>) and lets the stream go on; the HTTP supervisor then calls the logger
/// once, after the stream's access-log line. <see cref="IPluginBuilder.AddHttpLogger{TLogger}(string)"/> announces it.
/// </summary>
/// <typeparam name="TLogger">The plugin's logger type.</typeparam>
public sealed class HttpLoggerAnalyzer<TLogger> : IFlowAnalyzer, IStreamEndObserver where TLogger : class, IHttpLogger
{
    private readonly TLogger _logger;

    /// <summary>Wraps <paramref name="logger"/>.</summary>
    public HttpLoggerAnalyzer(TLogger logger) => _logger = logger ?? throw new ArgumentNullException(nameof(logger));

    /// <summary>The logger this analyzer runs.</summary>
    public TLogger Logger => _logger;

    /// <inheritdoc/>
    /// <remarks>Null: a logger may be listed in request_analyzers or in (after_)response_analyzers.</remarks>
    public ChannelDirection? Direction => null;

    /// <inheritdoc/>
    /// <exception cref="AnalyzerException">The listener does not speak HTTP.</exception>
    public ValueTask<AnalyzerVerdict> AnalyzeAsync(ProxyStream stream, Channel channel, CancellationToken cancellationToken)
    {
        PhaseGuard.RequireHttp(stream, _logger);
        stream.OnEnded(this);
        return new(AnalyzerVerdict.Continue);
    }

    /// <inheritdoc/>
    public void OnStreamEnded(ProxyStream stream, HttpLogEntry entry) => _logger.Log(new HttpFilterContext(stream), entry);

    /// <inheritdoc/>
    public override string ToString() => $"http logger {typeof(TLogger).Name}";
}
