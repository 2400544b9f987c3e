namespace PluginProxy.Abstractions.Http;

/// <summary>
/// Runs an <see cref="IHttpResponseFilter"/> as a response analyzer, so that it takes its place in the listener's analyzer
/// chain like any other. <see cref="IPluginBuilder.AddResponseFilter{TFilter}(string)"/> announces it.
/// </summary>
/// <typeparam name="TFilter">The plugin's filter type.</typeparam>
public sealed class ResponseFilterAnalyzer<TFilter> : IFlowAnalyzer where TFilter : class, IHttpResponseFilter
{
    private readonly TFilter _filter;

    /// <summary>Wraps <paramref name="filter"/>.</summary>
    public ResponseFilterAnalyzer(TFilter filter) => _filter = filter ?? throw new ArgumentNullException(nameof(filter));

    /// <summary>The filter this analyzer runs.</summary>
    public TFilter Filter => _filter;

    /// <inheritdoc/>
    public TimeSpan? Timeout => _filter.Timeout;

    /// <inheritdoc/>
    public ChannelDirection? Direction => ChannelDirection.Response;

    /// <inheritdoc/>
    /// <exception cref="AnalyzerException">The response head is not parsed yet (the filter is listed before http_lb_resp), or the listener does not speak HTTP.</exception>
    public ValueTask<AnalyzerVerdict> AnalyzeAsync(ProxyStream stream, Channel channel, CancellationToken cancellationToken)
    {
        PhaseGuard.RequireResponse(stream, _filter);
        ValueTask<FilterResult> call = _filter.OnResponseAsync(new HttpFilterContext(stream), cancellationToken);
        return call.IsCompletedSuccessfully ? new(call.Result.ToVerdict()) : AwaitAsync(call);
    }

    private static async ValueTask<AnalyzerVerdict> AwaitAsync(ValueTask<FilterResult> call) =>
        (await call.ConfigureAwait(false)).ToVerdict();

    /// <inheritdoc/>
    public override string ToString() => $"response filter {typeof(TFilter).Name}";
}
