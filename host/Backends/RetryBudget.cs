namespace PluginProxy.Host.Backends;

/// <summary>
/// The retries of one backend running now, held within its budget (<c>retry_budget</c> of the streams in flight at its
/// servers, at least <c>retry_budget_min</c>), so that a failing backend is not flooded with retries on top of its
/// traffic; and how many the budget refused.
/// </summary>
internal sealed class RetryBudget
{
    private int _active;
    private long _refused;

    /// <summary>Retries running now.</summary>
    public int Active => Volatile.Read(ref _active);

    /// <summary>Retries the budget refused since the backend was created.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Starts a retry if fewer than <paramref name="allowed"/> run now; <see cref="End"/> must follow a true.</summary>
    public bool TryBegin(int allowed)
    {
        while (true)
        {
            int active = Volatile.Read(ref _active);
            if (active >= allowed)
            {
                Interlocked.Increment(ref _refused);
                return false;
            }

            if (Interlocked.CompareExchange(ref _active, active + 1, active) == active)
            {
                return true;
            }
        }
    }

    /// <summary>A retry begun with <see cref="TryBegin"/> is decided.</summary>
    public void End() => Interlocked.Decrement(ref _active);
}
