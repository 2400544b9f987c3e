namespace PluginProxy.Abstractions.Http;

/// <summary>
/// Runs an <see cref="IHttpUpstreamSelector"/> as a request analyzer: the backend it returns becomes the stream's
/// <see cref="ProxyStream.Backend"/>. <see cref="IPluginBuilder.AddUpstreamSelector{TSelector}(string)"/> announces it.
/// </summary>
/// <typeparam name="TSelector">The plugin's selector type.</typeparam>
public sealed class UpstreamSelectorAnalyzer<TSelector> : IFlowAnalyzer where TSelector : class, IHttpUpstreamSelector
{
    private readonly TSelector _selector;

    /// <summary>Wraps <paramref name="selector"/>.</summary>
    public UpstreamSelectorAnalyzer(TSelector selector) => _selector = selector ?? throw new ArgumentNullException(nameof(selector));

    /// <summary>The selector this analyzer runs.</summary>
    public TSelector Selector => _selector;

    /// <inheritdoc/>
    public TimeSpan? Timeout => _selector.Timeout;

    /// <inheritdoc/>
    public ChannelDirection? Direction => ChannelDirection.Request;

    /// <inheritdoc/>
    /// <exception cref="AnalyzerException">The request head is not parsed yet (the selector is listed before http_lb_req), or the listener does not speak HTTP.</exception>
    public ValueTask<AnalyzerVerdict> AnalyzeAsync(ProxyStream stream, Channel channel, CancellationToken cancellationToken)
    {
        PhaseGuard.RequireRequest(stream, _selector);
        ValueTask<IBackend?> call = _selector.SelectBackendAsync(new HttpFilterContext(stream), cancellationToken);
        return call.IsCompletedSuccessfully ? new(Apply(stream, call.Result)) : AwaitAsync(stream, call);
    }

    private static AnalyzerVerdict Apply(ProxyStream stream, IBackend? chosen)
    {
        if (chosen is not null)
        {
            stream.Backend = chosen;
        }

        return AnalyzerVerdict.Continue;
    }

    private static async ValueTask<AnalyzerVerdict> AwaitAsync(ProxyStream stream, ValueTask<IBackend?> call) =>
        Apply(stream, await call.ConfigureAwait(false));

    /// <inheritdoc/>
    public override string ToString() => $"upstream selector {typeof(TSelector).Name}";
}
