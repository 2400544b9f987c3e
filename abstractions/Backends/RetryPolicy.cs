namespace PluginProxy.Abstractions;

/// <summary>
/// When and where a backend's requests go again (<c>retry_on</c>, <c>redispatch</c>, <c>retry_budget</c>,
/// <c>retry_budget_min</c> in <c>[[backend]]</c>); how many times is <see cref="IBackend.Retries"/>.
/// </summary>
public sealed class RetryPolicy
{
    /// <summary>Creates a policy.</summary>
    /// <param name="conditions">What is retried.</param>
    /// <param name="redispatch">True to retry on another server when there is one, false to retry the same server.</param>
    /// <param name="budget">The share of the backend's requests in flight that may be retries at once (0–1).</param>
    /// <param name="budgetMinimum">The retries allowed at once whatever the share says.</param>
    public RetryPolicy(RetryConditions conditions, bool redispatch = true, double budget = 0.2, int budgetMinimum = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(budget, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(budget, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(budgetMinimum);
        Conditions = conditions;
        Redispatch = redispatch;
        Budget = budget;
        BudgetMinimum = budgetMinimum;
    }

    /// <summary>The policy of a backend that says nothing: connection failures are retried, on another server.</summary>
    public static RetryPolicy Default { get; } = new(RetryConditions.ConnectFailure);

    /// <summary><c>retry_on</c>: what is retried.</summary>
    public RetryConditions Conditions { get; }

    /// <summary><c>redispatch</c>: true to retry on another server when there is one (the default), false to retry the same one.</summary>
    public bool Redispatch { get; }

    /// <summary><c>retry_budget</c>: the share of the backend's requests in flight that may be retries at once.</summary>
    public double Budget { get; }

    /// <summary><c>retry_budget_min</c>: the retries allowed at once however few requests are in flight.</summary>
    public int BudgetMinimum { get; }

    /// <summary>True when <paramref name="condition"/> (one flag) is retried.</summary>
    public bool Retries(RetryConditions condition) => (Conditions & condition) != 0;

    /// <summary>True when a response of <paramref name="status"/> is retried.</summary>
    public bool RetriesStatus(int status) => status switch
    {
        502 when Retries(RetryConditions.Status502) => true,
        503 when Retries(RetryConditions.Status503) => true,
        504 when Retries(RetryConditions.Status504) => true,
        >= 500 and < 600 => Retries(RetryConditions.All5xx),
        _ => false,
    };

    /// <summary>How many retries may run at once when <paramref name="inFlight"/> requests of the backend are in flight.</summary>
    public int BudgetFor(int inFlight) => Math.Max(BudgetMinimum, (int)(Budget * Math.Max(0, inFlight)));
}
