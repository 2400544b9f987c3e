namespace PluginProxy.Abstractions;

/// <summary>
/// A stage attached to a channel: called each time new data is present while the channel is held.
/// Analyzers listed by a listener run in the listed order; each returns an <see cref="AnalyzerVerdict"/>.
/// One instance serves every stream of every session, concurrently: keep per-stream state in
/// <see cref="ProxyStream.Variables"/>, not in fields.
/// </summary>
/// <remarks>
/// Analyzers may run on the socket event thread: never block, and hand slow work to the thread pool.
/// An exception ends only the stream it was thrown for (with a 500 where HTTP allows).
/// </remarks>
public interface IFlowAnalyzer
{
    /// <summary>
    /// The most time this analyzer may keep the channel held waiting for data, or null to use the listener's
    /// <c>timeout_request</c>.
    /// </summary>
    TimeSpan? Timeout => null;

    /// <summary>
    /// The channel this analyzer is made for: <see cref="ChannelDirection.Request"/> (it may only be listed in
    /// <c>request_analyzers</c>), <see cref="ChannelDirection.Response"/> (only in <c>response_analyzers</c>), or null when it
    /// works on either (the default, which analyzers built against SDK 1.5 get). The host refuses an analyzer listed for
    /// the other channel, at its place in proxy.toml, instead of letting every stream fail.
    /// </summary>
    ChannelDirection? Direction => null;

    /// <summary>Looks at the held data of <paramref name="channel"/> and says what happens next.</summary>
    /// <param name="stream">The stream being analyzed: its session, both channels, its chosen backend and variables.</param>
    /// <param name="channel">The held channel with new data (<see cref="ProxyStream.Request"/> or <see cref="ProxyStream.Response"/>).</param>
    /// <param name="cancellationToken">Signalled when the analyzer's timeout expires or the session ends.</param>
    ValueTask<AnalyzerVerdict> AnalyzeAsync(ProxyStream stream, Channel channel, CancellationToken cancellationToken);
}
