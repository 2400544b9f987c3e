using System.Net;

namespace PluginProxy.Host.Backends;

/// <summary>
/// The addresses a server connects to, published whole (a resolution that changes them publishes a new set): one for a
/// server written as an IP address, every address its name resolved to otherwise. Connections rotate over them, skipping
/// an address whose connect failed within <see cref="FailedHold"/> while another one is left; health checks take them
/// in turn (<see cref="NextForCheck"/>). Reading it takes no lock and allocates nothing.
/// </summary>
internal sealed class ServerAddresses
{
    /// <summary>How long an address whose connect failed is skipped while others are left.</summary>
    public static readonly TimeSpan FailedHold = TimeSpan.FromSeconds(10);

    /// <summary>No address: a server whose name has not resolved yet (<c>init_addr = "none"</c>).</summary>
    public static readonly ServerAddresses None = new([]);

    private readonly IPEndPoint[] _endPoints;

    // Environment.TickCount64 until which each address is skipped (0: not skipped).
    private readonly long[] _failedUntil;
    private int _cursor = -1;
    private int _checkCursor = -1;

    /// <param name="endPoints">The addresses, in the order they are taken (not copied: do not change it after).</param>
    public ServerAddresses(IPEndPoint[] endPoints)
    {
        _endPoints = endPoints;
        _failedUntil = new long[endPoints.Length];
    }

    /// <summary>The addresses.</summary>
    public IReadOnlyList<IPEndPoint> EndPoints => _endPoints;

    /// <summary>How many there are (0 before a name first resolved).</summary>
    public int Count => _endPoints.Length;

    /// <summary>The first address, or null when there is none.</summary>
    public IPEndPoint? First => _endPoints.Length > 0 ? _endPoints[0] : null;

    /// <summary>The address the next connection goes to: the next in turn that did not fail lately (any, when all did), or null.</summary>
    public IPEndPoint? Next()
    {
        IPEndPoint[] all = _endPoints;
        if (all.Length <= 1)
        {
            return all.Length == 0 ? null : all[0];
        }

        uint start = (uint)Interlocked.Increment(ref _cursor);
        long now = Environment.TickCount64;
        for (uint step = 0; step < (uint)all.Length; step++)
        {
            uint index = (start + step) % (uint)all.Length;
            if (Volatile.Read(ref _failedUntil[index]) <= now)
            {
                return all[index];
            }
        }

        return all[start % (uint)all.Length];
    }

    /// <summary>The address the next health check connects to: each in turn, failed or not, so that a failed one is seen to recover.</summary>
    public IPEndPoint? NextForCheck()
    {
        IPEndPoint[] all = _endPoints;
        return all.Length == 0 ? null : all[(uint)Interlocked.Increment(ref _checkCursor) % (uint)all.Length];
    }

    /// <summary>A connect to <paramref name="address"/> failed: connections skip it for <see cref="FailedHold"/> while another address is left.</summary>
    public void Failed(IPEndPoint address)
    {
        int index = Array.IndexOf(_endPoints, address);
        if (index >= 0 && _endPoints.Length > 1)
        {
            Volatile.Write(ref _failedUntil[index], Environment.TickCount64 + (long)FailedHold.TotalMilliseconds);
        }
    }

    /// <summary>A connect to <paramref name="address"/> succeeded: it is no longer skipped.</summary>
    public void Succeeded(IPEndPoint address)
    {
        if (_endPoints.Length <= 1)
        {
            return;
        }

        int index = Array.IndexOf(_endPoints, address);
        if (index >= 0 && Volatile.Read(ref _failedUntil[index]) != 0)
        {
            Volatile.Write(ref _failedUntil[index], 0);
        }
    }

    /// <summary>True when this set holds exactly <paramref name="endPoints"/> (in any order).</summary>
    public bool SameAs(IReadOnlyCollection<IPEndPoint> endPoints) =>
        endPoints.Count == _endPoints.Length && endPoints.All(e => Array.IndexOf(_endPoints, e) >= 0);

    /// <summary>The addresses as the configuration writes them, comma-separated ("none" when there is none).</summary>
    public override string ToString() => _endPoints.Length == 0 ? "none" : string.Join(", ", _endPoints.Select(Configuration.EndPoints.Format));
}
