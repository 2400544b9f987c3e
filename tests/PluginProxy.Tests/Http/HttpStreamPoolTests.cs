using PluginProxy.Http.Engine;
using Xunit;

namespace PluginProxy.Tests.Http;

/// <summary>The stream-state pool keeps what the busiest moment of an interval needed and drops what no stream used for a whole one.</summary>
public sealed class HttpStreamPoolTests
{
    private const long Interval = HttpStreamPool.TrimIntervalMs;

    [Fact]
    public void A_steady_load_reuses_states_beyond_any_fixed_bound()
    {
        var pool = new HttpStreamPool();
        HttpStream[] first = Enumerable.Range(0, 3000).Select(_ => pool.Rent()).ToArray();
        foreach (HttpStream stream in first)
        {
            pool.Return(stream);
        }

        HttpStream[] second = Enumerable.Range(0, 3000).Select(_ => pool.Rent()).ToArray();

        Assert.Equal(first.ToHashSet(ReferenceEqualityComparer.Instance).Count, second.Intersect(first, ReferenceEqualityComparer.Instance).Count());
        Assert.Equal(0, pool.Count);
    }

    [Fact]
    public void States_no_stream_needed_for_a_whole_interval_are_dropped()
    {
        var pool = new HttpStreamPool();
        long start = Environment.TickCount64;
        HttpStream[] peak = Enumerable.Range(0, 5).Select(_ => pool.Rent()).ToArray();
        foreach (HttpStream stream in peak)
        {
            pool.Return(stream);
        }

        // The interval of the peak: every state was out at once, none is dropped.
        pool.Expire(start + Interval + 1);
        Assert.Equal(5, pool.Count);

        // The next interval needs two at a time: the three others were never needed, and go.
        HttpStream a = pool.Rent(), b = pool.Rent();
        pool.Return(a);
        pool.Return(b);
        Assert.False(pool.IsExpired(start + Interval + 2));
        Assert.True(pool.IsExpired(start + (2 * Interval) + 2));
        pool.Expire(start + (2 * Interval) + 2);
        Assert.Equal(2, pool.Count);

        // An interval without any stream drops the rest.
        pool.Expire(start + (3 * Interval) + 3);
        Assert.Equal(0, pool.Count);
    }
}
