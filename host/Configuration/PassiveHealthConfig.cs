namespace PluginProxy.Host.Configuration;

/// <summary>
/// A backend's passive health checks (<c>[backend.passive]</c>): a server that fails <see cref="ConsecutiveFailures"/>
/// times in a row (connection failures and 5xx answers, one counter) is ejected for <see cref="Ejection"/> times the
/// number of its ejections so far, at most <see cref="MaxEjection"/>.
/// </summary>
internal sealed record PassiveHealthConfig
{
    /// <summary><c>consecutive_failures</c>: failures in a row that eject a server.</summary>
    public int ConsecutiveFailures { get; init; } = 5;

    /// <summary><c>ejection</c>: the first ejection's length, and the step by which the next ones grow.</summary>
    public TimeSpan Ejection { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary><c>max_ejection</c>: the longest ejection.</summary>
    public TimeSpan MaxEjection { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary><c>max_ejected_percent</c>: never more than this share of the backend's servers ejected at once.</summary>
    public int MaxEjectedPercent { get; init; } = 50;
}
