namespace PluginProxy.Host.Backends;

/// <summary>
/// Where one server's health checks stand: the consecutive successes or failures counted towards <c>rise</c> or
/// <c>fall</c>, and when it was last checked. Written only by the server's check loop; handed to the checks of the
/// next configuration when a reload keeps the server, so that a reload neither resets the count nor checks early.
/// </summary>
internal sealed class CheckProgress
{
    public int Successes { get; set; }

    public int Failures { get; set; }

    /// <summary><see cref="Environment.TickCount64"/> at the end of the last check, or null before the first.</summary>
    public long? LastCheckedAt { get; set; }

    /// <summary>How long to wait before the next check, to keep the interval since the last one.</summary>
    public TimeSpan DueIn(TimeSpan interval)
    {
        if (LastCheckedAt is not { } last)
        {
            return TimeSpan.Zero;
        }

        TimeSpan since = TimeSpan.FromMilliseconds(Environment.TickCount64 - last);
        return since >= interval ? TimeSpan.Zero : interval - since;
    }
}
