using System.Diagnostics;
using System.Net;

namespace PluginProxy.Tests.Plugins;

/// <summary>One request of a <see cref="PacedSender"/>: when it was sent (seconds since the start), what came back (0: no answer), how long it took.</summary>
internal readonly record struct PacedOutcome(double SentAt, int Status, double LatencyMs, string? Error);

/// <summary>
/// Sends GET requests at a steady rate, spread in turn over several proxies, for a while: a timer ticks every few
/// milliseconds and each tick sends what the rate owes by then (so that a late tick catches up rather than slowing the
/// rate down). Requests do not wait for each other: each goes on a keep-alive connection of a pool.
/// </summary>
internal sealed class PacedSender : IDisposable
{
    private readonly HttpClient _client = new(new SocketsHttpHandler { MaxConnectionsPerServer = 256, UseProxy = false, AllowAutoRedirect = false })
    {
        Timeout = TimeSpan.FromSeconds(10),
    };

    /// <summary>The clock <see cref="PacedOutcome.SentAt"/> is read on; started by <see cref="RunAsync"/>.</summary>
    public Stopwatch Clock { get; } = new();

    /// <summary>Sends <paramref name="perSecond"/> requests a second to <paramref name="targets"/> in turn for <paramref name="duration"/>, and returns every outcome once all are answered.</summary>
    public async Task<PacedOutcome[]> RunAsync(IReadOnlyList<IPEndPoint> targets, double perSecond, TimeSpan duration)
    {
        var requests = new List<Task<PacedOutcome>>();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(2));
        Clock.Restart();
        long sent = 0;
        do
        {
            double now = Clock.Elapsed.TotalSeconds;
            long due = (long)(Math.Min(now, duration.TotalSeconds) * perSecond);
            for (; sent < due; sent++)
            {
                IPEndPoint target = targets[(int)(sent % targets.Count)];
                requests.Add(SendAsync(new Uri($"http://{target}/r{sent}"), sent / perSecond));
            }
        }
        while (Clock.Elapsed < duration && await timer.WaitForNextTickAsync());

        return await Task.WhenAll(requests);
    }

    private async Task<PacedOutcome> SendAsync(Uri uri, double sentAt)
    {
        long started = Stopwatch.GetTimestamp();
        try
        {
            using HttpResponseMessage response = await _client.GetAsync(uri);
            await response.Content.ReadAsByteArrayAsync();
            return new PacedOutcome(sentAt, (int)response.StatusCode, Stopwatch.GetElapsedTime(started).TotalMilliseconds, null);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
        {
            return new PacedOutcome(sentAt, 0, Stopwatch.GetElapsedTime(started).TotalMilliseconds, $"{uri}: {ex.GetType().Name}: {ex.Message}");
        }
    }

    /// <summary>The requests sent in [<paramref name="from"/>, <paramref name="to"/>) seconds that were let through, per second.</summary>
    public static double AdmittedPerSecond(IEnumerable<PacedOutcome> outcomes, double from, double to) =>
        outcomes.Count(o => o.Status == 200 && o.SentAt >= from && o.SentAt < to) / (to - from);

    public void Dispose() => _client.Dispose();
}
