using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;

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
public sealed class RateLimiter(ClientBuckets buckets, ILogger<RateLimiter> log) : IFlowAnalyzer, IOptionsCheck
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

    public IEnumerable<OptionProblem> CheckOptions(ListenerSettings listener)
    {
        RateLimitOptions.Read(listener, out List<OptionProblem> problems);
        return problems;
    }
}

/// <summary>The <c>rate_limit</c> table of a listener's <c>options</c>.</summary>
public sealed record RateLimitOptions(int Requests, TimeSpan Per, int Burst)
{
    public static readonly RateLimitOptions Default = new(100, TimeSpan.FromSeconds(1), 100);

    /// <summary>Tokens added back per second.</summary>
    public double RefillPerSecond => Requests / Per.TotalSeconds;

    /// <summary>Reads the listener's options; defaults stand in for what is absent or wrong (each wrong value is reported).</summary>
    public static RateLimitOptions Read(ListenerSettings listener, out List<OptionProblem> problems)
    {
        problems = [];
        if (!listener.Options.TryGetValue("rate_limit", out object? value) || value is null)
        {
            return Default;
        }

        if (value is not IReadOnlyDictionary<string, object?> table)
        {
            problems.Add(new("rate_limit", "must be a table such as { requests = 100, per = \"1s\" }"));
            return Default;
        }

        foreach (string key in table.Keys.Where(k => k is not ("requests" or "per" or "burst")))
        {
            problems.Add(new($"rate_limit.{key}", "unknown key; known keys are requests, per, burst"));
        }

        int requests = ReadCount(table, "requests", Default.Requests, problems);
        TimeSpan per = Default.Per;
        if (table.TryGetValue("per", out object? perValue))
        {
            if (perValue is string text && ParseDuration(text) is { } parsed && parsed > TimeSpan.Zero)
            {
                per = parsed;
            }
            else
            {
                problems.Add(new("rate_limit.per", $"must be a positive duration such as \"1s\", \"500ms\" or \"1m\", not {perValue}"));
            }
        }

        int burst = ReadCount(table, "burst", requests, problems);
        return new RateLimitOptions(requests, per, burst);
    }

    private static int ReadCount(IReadOnlyDictionary<string, object?> table, string key, int fallback, List<OptionProblem> problems)
    {
        if (!table.TryGetValue(key, out object? value))
        {
            return fallback;
        }

        if (value is long n and > 0 and <= int.MaxValue)
        {
            return (int)n;
        }

        problems.Add(new($"rate_limit.{key}", $"must be a positive integer, not {value}"));
        return fallback;
    }

    private static TimeSpan? ParseDuration(string text)
    {
        (string digits, double unit) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.Ordinal) => (text[..^2], 0.001),
            _ when text.EndsWith('s') => (text[..^1], 1),
            _ when text.EndsWith('m') => (text[..^1], 60),
            _ when text.EndsWith('h') => (text[..^1], 3600),
            _ => ("", 0),
        };
        return long.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long n)
            ? TimeSpan.FromSeconds(n * unit)
            : null;
    }
}
