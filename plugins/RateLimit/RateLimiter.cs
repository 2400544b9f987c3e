using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Options;

namespace RateLimit;

/// <summary>
/// The <c>rate_limit</c> request analyzer: each client address may send <c>requests</c> requests per <c>per</c>, in
/// bursts of up to <c>burst</c> (a token bucket per client and listener). A request over the limit is answered
/// <c>429 Too Many Requests</c> with <c>Retry-After</c> and never reaches a server. Configured per listener:
/// <code>
/// request_analyzers = ["rate_limit"]
/// options = { rate_limit = { requests = 100, per = "1s", burst = 200 } }
/// </code>
/// </summary>
public sealed class RateLimiter(ClientBuckets buckets, ILogger<RateLimiter> log) : IFlowAnalyzer, IListenerOptions
{
    private static readonly ReadOnlyMemory<byte> TooManyRequests = Encoding.ASCII.GetBytes("Too Many Requests\n");

    // It limits requests: the host refuses it in response_analyzers, where it would never see one.
    public ChannelDirection? Direction => ChannelDirection.Request;

    public ValueTask<AnalyzerVerdict> AnalyzeAsync(ProxyStream stream, Channel channel, CancellationToken cancellationToken)
    {
        ListenerSettings listener = stream.Session.Listener;
        IPAddress client = (stream.Session.Connection.ClientEndPoint as IPEndPoint)?.Address ?? IPAddress.None;
        TakeResult taken = buckets.Take(listener, client);
        if (taken.Allowed)
        {
            return ValueTask.FromResult(AnalyzerVerdict.Continue);
        }

        if (taken.FirstRefusal)
        {
            RateLimitLog.OverLimit(log, client, listener.Name, taken.Limit.Requests, taken.Limit.Per);
        }

        int seconds = Math.Max(1, (int)Math.Ceiling(taken.RetryAfter.TotalSeconds));
        var reply = new AnalyzerReply(429, TooManyRequests,
            [new("Content-Type", "text/plain"), new("Retry-After", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture))])
        {
            // The client may retry on the same connection once it waited.
            Close = false,
        };
        return ValueTask.FromResult(AnalyzerVerdict.Stop(reply));
    }

    /// <summary>It reads only under <c>options</c>: no key of the listener's own.</summary>
    public IReadOnlyCollection<string> ListenerKeys => [];

    public IReadOnlyList<OptionError> CheckListener(ListenerSettings listener) => RateLimitOptions.Bind(listener).Errors;
}

/// <summary>The <c>rate_limit</c> table of a listener's <c>options</c>, as written (bound by the SDK's <see cref="OptionsBinder"/>).</summary>
public sealed class RateLimitTable
{
    [OptionRange(1, int.MaxValue)]
    public int Requests { get; init; } = 100;

    public TimeSpan Per { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The bucket's size; <see cref="Requests"/> when left out.</summary>
    [OptionRange(1, int.MaxValue)]
    public int? Burst { get; init; }
}

/// <summary>The limit of one listener: <c>requests</c> per <c>per</c>, in bursts of up to <c>burst</c>.</summary>
public sealed record RateLimitOptions(int Requests, TimeSpan Per, int Burst)
{
    public static readonly RateLimitOptions Default = new(100, TimeSpan.FromSeconds(1), 100);

    /// <summary>Tokens added back per second.</summary>
    public double RefillPerSecond => Requests / Per.TotalSeconds;

    /// <summary>Binds <c>options.rate_limit</c> of the listener; defaults stand in for what is absent or wrong (each wrong value is an error).</summary>
    public static OptionsBinding<RateLimitOptions> Bind(ListenerSettings listener)
    {
        OptionNode? table = (listener.Table.Find("options")?.Value as OptionTable)?.Find("rate_limit")?.Value;
        OptionsBinding<RateLimitTable> bound = OptionsBinder.Bind<RateLimitTable>(table, "options.rate_limit");
        RateLimitTable t = bound.Value;
        return new(new RateLimitOptions(t.Requests, t.Per, t.Burst ?? t.Requests), bound.Errors);
    }
}
