using System.Collections.Concurrent;
using PluginProxy.Abstractions;

namespace PluginProxy.Tests.Http.H2;

/// <summary>
/// A heartbeat that beats only when the test says so, on a clock the test advances: <see cref="Now"/> is
/// <see cref="Environment.TickCount64"/> plus what <see cref="Advance"/> added, so deadlines of minutes pass at once.
/// </summary>
internal sealed class ManualHeartbeat : IHeartbeat
{
    private readonly ConcurrentDictionary<IExpiring, byte> _targets = new();
    private long _offset;

    /// <inheritdoc/>
    public TimeSpan Period => TimeSpan.FromSeconds(1);

    /// <summary>How many targets are registered now.</summary>
    public int Count => _targets.Count;

    /// <summary>The clock the connection under test reads, in milliseconds.</summary>
    public long Now => Environment.TickCount64 + Interlocked.Read(ref _offset);

    /// <inheritdoc/>
    public void Add(IExpiring target) => _targets.TryAdd(target, 0);

    /// <inheritdoc/>
    public void Remove(IExpiring target) => _targets.TryRemove(target, out _);

    /// <summary>Moves the clock <paramref name="by"/> forward, then beats.</summary>
    public void Advance(TimeSpan by)
    {
        Interlocked.Add(ref _offset, (long)by.TotalMilliseconds);
        Beat();
    }

    /// <summary>Checks every target now.</summary>
    public void Beat()
    {
        long now = Now;
        foreach (IExpiring target in _targets.Keys)
        {
            if (target.IsExpired(now))
            {
                target.Expire(now);
            }
        }
    }
}
