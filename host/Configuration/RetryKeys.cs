using PluginProxy.Abstractions;

namespace PluginProxy.Host.Configuration;

/// <summary>
/// Reads a backend's retry policy (<c>retry_on</c>, <c>redispatch</c>, <c>retry_budget</c>, <c>retry_budget_min</c>)
/// and its passive health checks (<c>[backend.passive]</c>).
/// </summary>
internal static class RetryKeys
{
    /// <summary>The names <c>retry_on</c> accepts.</summary>
    public static readonly IReadOnlyDictionary<string, RetryConditions> ConditionNames =
        new Dictionary<string, RetryConditions>(StringComparer.Ordinal)
        {
            ["connect-failure"] = RetryConditions.ConnectFailure,
            ["empty-response"] = RetryConditions.EmptyResponse,
            ["response-timeout"] = RetryConditions.ResponseTimeout,
            ["502"] = RetryConditions.Status502,
            ["503"] = RetryConditions.Status503,
            ["504"] = RetryConditions.Status504,
            ["all-5xx"] = RetryConditions.All5xx,
        };

    /// <summary>The backend's retry policy; <see cref="RetryPolicy.Default"/> when it sets none of its keys.</summary>
    public static RetryPolicy ReadPolicy(TableReader table)
    {
        RetryConditions conditions = RetryPolicy.Default.Conditions;
        if (table.StringList("retry_on", what: "a list such as [\"connect-failure\", \"empty-response\", \"503\"]") is { } names)
        {
            conditions = RetryConditions.None;
            foreach ((string name, SourceSpot spot) in names)
            {
                if (ConditionNames.TryGetValue(name, out RetryConditions condition))
                {
                    conditions |= condition;
                }
                else
                {
                    table.Error(spot, $"`retry_on` \"{name}\" is unknown; use {string.Join(", ", ConditionNames.Keys.Select(k => $"\"{k}\""))}");
                }
            }
        }

        bool redispatch = table.Bool("redispatch") ?? RetryPolicy.Default.Redispatch;
        double budget = table.Ratio("retry_budget") ?? RetryPolicy.Default.Budget;
        int minimum = (int)(table.Integer("retry_budget_min", 0, 100000) ?? RetryPolicy.Default.BudgetMinimum);
        return conditions == RetryPolicy.Default.Conditions && redispatch && budget == RetryPolicy.Default.Budget && minimum == RetryPolicy.Default.BudgetMinimum
            ? RetryPolicy.Default
            : new RetryPolicy(conditions, redispatch, budget, minimum);
    }

    /// <summary>The backend's <c>[backend.passive]</c> table, or null when it has none (passive health checks off).</summary>
    public static PassiveHealthConfig? ReadPassive(TableReader backend)
    {
        if (backend.SubTable("passive", $"the passive health checks of {backend.DisplayName}") is not { } table)
        {
            return null;
        }

        var defaults = new PassiveHealthConfig();
        int failures = (int)(table.Integer("consecutive_failures", 1, 1000) ?? defaults.ConsecutiveFailures);
        TimeSpan ejection = table.Duration("ejection") ?? defaults.Ejection;
        TimeSpan? maxEjection = table.Duration("max_ejection");
        int percent = (int)(table.Integer("max_ejected_percent", 0, 100) ?? defaults.MaxEjectedPercent);
        if (maxEjection is { } max && max < ejection)
        {
            table.Error(table.SpotOf("max_ejection"), $"`max_ejection` ({Units.Format(max)}) must be at least `ejection` ({Units.Format(ejection)})");
        }

        table.RejectUnknownKeys(ConfigKeys.Passive);
        return new PassiveHealthConfig
        {
            ConsecutiveFailures = failures,
            Ejection = ejection,
            MaxEjection = maxEjection is { } m && m >= ejection ? m : TimeSpan.FromTicks(Math.Max(ejection.Ticks, defaults.MaxEjection.Ticks)),
            MaxEjectedPercent = percent,
        };
    }
}
