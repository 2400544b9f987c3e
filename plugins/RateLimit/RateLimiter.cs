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
/// With <c>store = "name"</c> (a <c>[[store]]</c>), the limit is shared by every instance of the proxy naming that store
/// (<see cref="SharedLimit"/>): no burst, and a 503 while the store is down if it is configured
/// <c>on_store_failure = "closed"</c>.
/// </summary>
public sealed class RateLimiter(ClientBuckets buckets, ILogger<RateLimiter> log) : IFlowAnalyzer, IListenerOptions
{
    private static readonly ReadOnlyMemory<byte> TooManyRequests = Encoding.ASCII.GetBytes("Too Many Requests\n");
    private static readonly ReadOnlyMemory<byte> StoreUnavailable =
        Encoding.ASCII.GetBytes("Service Unavailable: the rate limit's shared store is unreachable and on_store_failure = \"closed\"\n");

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

        if (taken.StoreRefusing)
        {
            if (taken.FirstRefusal)
            {
                RateLimitLog.StoreRefusing(log, listener.Name, taken.Limit.Store!);
            }

            return ValueTask.FromResult(AnalyzerVerdict.Stop(new AnalyzerReply(503, StoreUnavailable, [new("Content-Type", "text/plain"), new("Retry-After", "1")]) { Close = false }));
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

    public IReadOnlyList<OptionError> CheckListener(ListenerSettings listener) => RateLimitOptions.Check(listener);
}

/// <summary>The <c>rate_limit</c> table of a listener's <c>options</c>, as written (bound by the SDK's <see cref="OptionsBinder"/>).</summary>
public sealed class RateLimitTable
{
    [OptionRange(1, int.MaxValue)]
    public int Requests { get; init; } = 100;

    public TimeSpan Per { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The bucket's size; <see cref="Requests"/> when left out. Refused with <see cref="Store"/>: a shared limit has no bucket.</summary>
    [OptionRange(1, int.MaxValue)]
    public int? Burst { get; init; }

    /// <summary>The <c>[[store]]</c> that shares the limit between instances; null for a limit of this instance alone.</summary>
    public string? Store { get; init; }
}

/// <summary>
/// The limit of one listener: <c>requests</c> per <c>per</c>, in bursts of up to <c>burst</c>; with <c>store</c>, a
/// limit shared by every instance that names that store (a sliding window of <c>per</c>, no burst).
/// </summary>
public sealed record RateLimitOptions(int Requests, TimeSpan Per, int Burst, string? Store = null)
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
        return new(new RateLimitOptions(t.Requests, t.Per, t.Burst ?? t.Requests, t.Store), bound.Errors);
    }

    /// <summary>
    /// Everything <see cref="Bind"/> reports, and what only the whole configuration shows: a <c>store</c> that no
    /// <c>[[store]]</c> defines (at its value, with the names that are defined), and a <c>burst</c> with a <c>store</c>.
    /// </summary>
    public static IReadOnlyList<OptionError> Check(ListenerSettings listener)
    {
        OptionsBinding<RateLimitOptions> bound = Bind(listener);
        if (bound.Value.Store is not { } store || Table(listener) is not { } table)
        {
            return bound.Errors;
        }

        var errors = new List<OptionError>(bound.Errors);
        if (!listener.StoreNames.Contains(store) && table.Find("store") is { } written)
        {
            string hint = listener.StoreNames.Count == 0
                ? "no [[store]] is defined; add one, for example: [[store]] name = \"shared\" kind = \"redis\" address = \"127.0.0.1:6379\""
                : ConfigUnits.Closest(store, listener.StoreNames) is { } close
                    ? $"did you mean \"{close}\"? (defined stores: {Names(listener.StoreNames)})"
                    : $"defined stores: {Names(listener.StoreNames)}";
            errors.Add(new OptionError(written.Value.Spot, $"`options.rate_limit.store` names store \"{store}\", which is not defined; {hint}"));
        }

        if (table.Find("burst") is { } burst)
        {
            errors.Add(new OptionError(burst.KeySpot,
                "`options.rate_limit.burst` does not apply with `store`: a shared limit counts `requests` over a sliding window of `per` on every instance, with no bucket to size; remove `burst` (or `store`, for a token bucket of this instance alone)"));
        }

        return errors;
    }

    private static OptionTable? Table(ListenerSettings listener) =>
        (listener.Table.Find("options")?.Value as OptionTable)?.Find("rate_limit")?.Value as OptionTable;

    private static string Names(IReadOnlyList<string> names) => string.Join(", ", names.Select(n => $"\"{n}\""));
}
