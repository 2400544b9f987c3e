using System.Runtime.CompilerServices;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;
using PluginProxy.Abstractions.Options;

namespace PluginProxy.Compression;

/// <summary>
/// The <c>compress</c> response analyzer: compresses the body of an eligible response (<see cref="ResponseRules"/>) with
/// the coding the client accepts (<see cref="AcceptEncoding"/>), gzip or Brotli, as it is relayed: it installs a
/// compressor on the stream (<see cref="HttpExchange.SetResponseBodyFilter"/>) and changes the head. Configured per
/// listener:
/// <code>
/// response_analyzers = ["compress"]
/// compress_types = ["text/html", "application/json"]
/// compress_min_size = 1024
/// compress_algorithms = ["br", "gzip"]
/// compress_level = "fastest"
/// </code>
/// </summary>
public sealed class CompressAnalyzer : IFlowAnalyzer, IListenerOptions
{
    /// <summary>Per listener configuration (a reload brings new settings): its bound options.</summary>
    private readonly ConditionalWeakTable<ListenerSettings, Bound> _listeners = new();

    private sealed record Bound(CompressionSettings Settings, IReadOnlyList<OptionError> Errors);

    /// <inheritdoc/>
    public ChannelDirection? Direction => ChannelDirection.Response;

    /// <inheritdoc/>
    public IReadOnlyCollection<string> ListenerKeys => CompressionOptions.Keys.ToArray();

    /// <inheritdoc/>
    public IReadOnlyList<OptionError> CheckListener(ListenerSettings listener) => BoundFor(listener).Errors;

    /// <inheritdoc/>
    /// <exception cref="AnalyzerException">The listener does not speak HTTP.</exception>
    public ValueTask<AnalyzerVerdict> AnalyzeAsync(ProxyStream stream, Channel channel, CancellationToken cancellationToken)
    {
        HttpExchange http = stream.Http
            ?? throw new AnalyzerException("compress", "compress is an HTTP analyzer: it runs only on a listener whose supervisor speaks HTTP");
        if (!http.HasResponse || http.ResponseBodyFilter is not null)
        {
            return ValueTask.FromResult(AnalyzerVerdict.Continue);
        }

        CompressionSettings settings = BoundFor(stream.Session.Listener).Settings;
        if (ResponseRules.IsEligible(http, settings))
        {
            ResponseRules.AddVary(http.Response.Headers);
            ContentCoding coding = AcceptEncoding.Choose(http.Request, settings.Algorithms);
            if (coding != ContentCoding.Identity)
            {
                ResponseRules.MarkCompressed(http.Response.Headers, coding);
                http.SetResponseBodyFilter(settings.CreateFilter(coding));
            }
        }

        return ValueTask.FromResult(AnalyzerVerdict.Continue);
    }

    private Bound BoundFor(ListenerSettings listener) => _listeners.GetValue(listener, static l =>
    {
        OptionsBinding<CompressionOptions> bound = OptionsBinder.Bind<CompressionOptions>(l.Table, claimsTable: false);
        return new Bound(new CompressionSettings(bound.Value), bound.Errors);
    });
}
