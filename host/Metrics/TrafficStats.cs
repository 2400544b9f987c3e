using System.Numerics;

namespace PluginProxy.Host.Metrics;

/// <summary>
/// Requests, status classes, bytes and a latency histogram of one listener or one server, counted without allocating
/// and without locks (the dashboard's figures; <c>/metrics</c> has its own instruments). Totals since start: readers
/// take two snapshots and look at the difference for rates and recent percentiles.
/// </summary>
internal sealed class TrafficStats
{
    /// <summary>Latency buckets: exact below 8 µs, then four per doubling up to about 33 s.</summary>
    public const int BucketCount = 100;

    private readonly long[] _byClass = new long[6];
    private readonly long[] _latency = new long[BucketCount];
    private long _bytesIn;
    private long _bytesOut;

    /// <summary>Counts one finished stream. <paramref name="status"/> -1 (no response) counts as "other".</summary>
    public void Record(int status, long bytesIn, long bytesOut, TimeSpan total)
    {
        Interlocked.Increment(ref _byClass[ClassIndex(status)]);
        Interlocked.Add(ref _bytesIn, bytesIn);
        Interlocked.Add(ref _bytesOut, bytesOut);
        Interlocked.Increment(ref _latency[Bucket(total)]);
    }

    /// <summary>Streams of status class <paramref name="classIndex"/> (<see cref="ClassIndex"/>) so far.</summary>
    public long Requests(int classIndex) => Volatile.Read(ref _byClass[classIndex]);

    /// <summary>Bytes received from clients so far.</summary>
    public long BytesIn => Interlocked.Read(ref _bytesIn);

    /// <summary>Bytes sent to clients so far.</summary>
    public long BytesOut => Interlocked.Read(ref _bytesOut);

        /// <summary>A copy of the counters as they stand.</summary>
    public TrafficSnapshot Snapshot()
    {
        var classes = new long[_byClass.Length];
        for (int i = 0; i < classes.Length; i++)
        {
            classes[i] = Volatile.Read(ref _byClass[i]);
        }

        var latency = new long[BucketCount];
        for (int i = 0; i < latency.Length; i++)
        {
            latency[i] = Volatile.Read(ref _latency[i]);
        }

        return new TrafficSnapshot(classes, Interlocked.Read(ref _bytesIn), Interlocked.Read(ref _bytesOut), latency);
    }

    /// <summary>0-4 for 1xx-5xx, 5 for anything else (no response sent).</summary>
    public static int ClassIndex(int status) => status is >= 100 and < 600 ? status / 100 - 1 : 5;

    /// <summary>The bucket of a duration.</summary>
    public static int Bucket(TimeSpan duration)
    {
        long us = Math.Max(0, duration.Ticks / TimeSpan.TicksPerMicrosecond);
        if (us < 8)
        {
            return (int)us;
        }

        int exponent = BitOperations.Log2((ulong)us);
        int sub = (int)(us >> (exponent - 2)) & 3;
        return Math.Min(BucketCount - 1, 8 + (exponent - 3) * 4 + sub);
    }

    /// <summary>The smallest duration, in µs, that falls into <paramref name="bucket"/>.</summary>
    public static long LowerBoundMicroseconds(int bucket)
    {
        if (bucket < 8)
        {
            return bucket;
        }

        int exponent = 3 + (bucket - 8) / 4;
        return (4L + (bucket - 8) % 4) << (exponent - 2);
    }
}

/// <summary>Counters of a <see cref="TrafficStats"/> at one moment.</summary>
/// <param name="ByClass">Streams by status class: 1xx, 2xx, 3xx, 4xx, 5xx, other.</param>
/// <param name="Latency">Streams by <see cref="TrafficStats.Bucket"/> of their whole duration.</param>
internal sealed record TrafficSnapshot(long[] ByClass, long BytesIn, long BytesOut, long[] Latency)
{
    public long Requests => ByClass.Sum();

    /// <summary>
    /// The duration, in milliseconds, below which the fraction <paramref name="quantile"/> of the streams finished
    /// (0.5 the median, 0.99 the 99th percentile), or null without streams: the bucket holding that stream, with a
    /// linear interpolation inside it. The dashboard's page computes the same from the difference of two snapshots.
    /// </summary>
    public double? PercentileMilliseconds(double quantile)
    {
        long total = Latency.Sum();
        if (total == 0)
        {
            return null;
        }

        double rank = Math.Clamp(quantile, 0, 1) * total;
        long before = 0;
        for (int bucket = 0; bucket < Latency.Length; bucket++)
        {
            long count = Latency[bucket];
            if (count > 0 && before + count >= rank)
            {
                long lower = TrafficStats.LowerBoundMicroseconds(bucket);
                long upper = bucket + 1 < TrafficStats.BucketCount ? TrafficStats.LowerBoundMicroseconds(bucket + 1) : lower;
                return (lower + (upper - lower) * ((rank - before) / count)) / 1000.0;
            }

            before += count;
        }

        return TrafficStats.LowerBoundMicroseconds(TrafficStats.BucketCount - 1) / 1000.0;
    }

    /// <summary>The sum of several (a backend's servers).</summary>
    public static TrafficSnapshot Sum(IEnumerable<TrafficSnapshot> parts)
    {
        var classes = new long[6];
        var latency = new long[TrafficStats.BucketCount];
        long bytesIn = 0, bytesOut = 0;
        foreach (TrafficSnapshot part in parts)
        {
            for (int i = 0; i < classes.Length; i++)
            {
                classes[i] += part.ByClass[i];
            }

            for (int i = 0; i < latency.Length; i++)
            {
                latency[i] += part.Latency[i];
            }

            bytesIn += part.BytesIn;
            bytesOut += part.BytesOut;
        }

        return new TrafficSnapshot(classes, bytesIn, bytesOut, latency);
    }
}
