using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;

namespace PluginProxy.Tests.Probe;

// Analyzers for the contract tests that run the same chain under every supervisor (tcp and http). They look only at
// the held bytes, so they mean the same thing whatever the supervisor.

/// <summary>Holds the channel until the held bytes contain "GO"; logs each hold with the held length and whether the channel is held.</summary>
public sealed class HoldUntilGo(ILogger<HoldUntilGo> log) : IFlowAnalyzer
{
    public ValueTask<AnalyzerVerdict> AnalyzeAsync(ProxyStream stream, Channel channel, CancellationToken cancellationToken)
    {
        if (channel.Data.Span.IndexOf("GO"u8) >= 0)
        {
            return ValueTask.FromResult(AnalyzerVerdict.Continue);
        }

        log.LogInformation("contract_hold_until_go: holding {Length} bytes, held={Held}", channel.Length, channel.IsHeld);
        return ValueTask.FromResult(AnalyzerVerdict.NeedMoreData);
    }
}

/// <summary>Never releases, and may hold the channel for 300 ms only (far less than the listener's timeout_request).</summary>
public sealed class ShortTimeout : IFlowAnalyzer
{
    public TimeSpan? Timeout => TimeSpan.FromMilliseconds(300);

    public ValueTask<AnalyzerVerdict> AnalyzeAsync(ProxyStream stream, Channel channel, CancellationToken cancellationToken) =>
        ValueTask.FromResult(AnalyzerVerdict.NeedMoreData);
}

/// <summary>Asks to be bypassed; logs each call, so a test can count that it is called once per stream.</summary>
public sealed class BypassOnce(ILogger<BypassOnce> log) : IFlowAnalyzer
{
    public ValueTask<AnalyzerVerdict> AnalyzeAsync(ProxyStream stream, Channel channel, CancellationToken cancellationToken)
    {
        log.LogInformation("contract_bypass: called on session {Session} stream {Stream}", stream.Session.Id, stream.Number);
        return ValueTask.FromResult(AnalyzerVerdict.Bypass);
    }
}

/// <summary>Throws when the held bytes contain "boom".</summary>
public sealed class ThrowOnBoomBytes : IFlowAnalyzer
{
    public ValueTask<AnalyzerVerdict> AnalyzeAsync(ProxyStream stream, Channel channel, CancellationToken cancellationToken) =>
        channel.Data.Span.IndexOf("boom"u8) >= 0
            ? throw new InvalidOperationException("boom in the held bytes")
            : ValueTask.FromResult(AnalyzerVerdict.Continue);
}
