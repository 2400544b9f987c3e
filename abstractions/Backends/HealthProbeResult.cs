namespace PluginProxy.Abstractions;

/// <summary>What an <see cref="IHealthProbe"/> got from a server: the status of its final answer, or why there is no valid answer.</summary>
public readonly struct HealthProbeResult
{
    private HealthProbeResult(int status, string? failure)
    {
        Status = status;
        Failure = failure;
    }

    /// <summary>The status of the final answer (100–999: interim 1xx answers are skipped, but a 101 is final), or 0 when there is none (<see cref="Failure"/> says why).</summary>
    public int Status { get; }

    /// <summary>Why there is no valid answer (for the log and the server's last check failure), or null.</summary>
    public string? Failure { get; }

    /// <summary>True when the server answered with a valid head; the host then judges <see cref="Status"/>.</summary>
    public bool IsAnswered => Failure is null;

    /// <summary>The server answered with a valid head and <paramref name="status"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="status"/> is not a status (100–999).</exception>
    public static HealthProbeResult Answered(int status)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(status, 100);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(status, 999);
        return new HealthProbeResult(status, null);
    }

    /// <summary>There is no valid answer: <paramref name="reason"/> says why, short and specific (<c>not an HTTP response: ...</c>).</summary>
    public static HealthProbeResult Failed(string reason)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        return new HealthProbeResult(0, reason);
    }
}
