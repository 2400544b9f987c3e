using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Backends;

/// <summary>
/// Where the resolution of a server named by host name stands: when its name last resolved, and since when it fails and
/// why. A name that stops resolving (no such name, no record, no answer) keeps its last addresses; the change of state
/// is logged once each way. Kept by a reload that keeps the server (<see cref="ServerCarryOver"/>).
/// </summary>
internal sealed class ServerResolution(ServerHostName name)
{
    private volatile Status _status = new(null, null, null);
    private long _failures;

    /// <summary>The name, as the configuration writes it.</summary>
    public ServerHostName Name { get; } = name;

    /// <summary>True once a first resolution was tried (at start, or when the server was created by a reload).</summary>
    public bool Attempted { get; private set; }

    /// <summary>When the name last resolved, or null if it never did.</summary>
    public DateTimeOffset? ResolvedAt => _status.ResolvedAt;

    /// <summary>Since when the name fails to resolve, or null while it resolves.</summary>
    public DateTimeOffset? FailingSince => _status.FailingSince;

    /// <summary>Why the last resolution failed, or null while the name resolves.</summary>
    public string? Failure => _status.Failure;

    /// <summary>How many resolutions failed since start.</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>When the last resolution was tried (<see cref="Environment.TickCount64"/>), to keep the interval across a reload.</summary>
    public long LastAttemptAt { get; private set; }

    /// <summary>
    /// Applies the result of a resolution to <paramref name="server"/>: new addresses are published (logged when they
    /// change, unless <paramref name="log"/> is null: at start); a failure keeps the last addresses, logged when it starts.
    /// </summary>
    public void Apply(Server server, ResolveResult result, ILogger? log)
    {
        bool first = !Attempted;
        Attempted = true;
        LastAttemptAt = Environment.TickCount64;
        Status status = _status;
        if (result.EndPoints is { Length: > 0 } endPoints)
        {
            ServerAddresses current = server.AddressSet;
            if (!current.SameAs(endPoints))
            {
                server.SetAddresses(new ServerAddresses(endPoints));
                if (!first && log is not null && status.FailingSince is null)
                {
                    DnsLog.Changed(log, server, Name.Written, string.Join(", ", endPoints.Select(EndPoints.Format)), current.ToString());
                }
            }

            if (status.FailingSince is { } since && log is not null)
            {
                DnsLog.Recovered(log, server, Name.Written, Units.Format(DateTimeOffset.UtcNow - since), server.AddressSet.ToString());
            }

            _status = new Status(DateTimeOffset.UtcNow, null, null);
            return;
        }

        Interlocked.Increment(ref _failures);
        string failure = result.Failure ?? "no address";
        if (status.FailingSince is null && log is not null)
        {
            DnsLog.Failing(log, server, Name.Written, failure, server.AddressSet.Count == 0 ? "it has no address yet and takes no traffic" : $"keeping {server.AddressSet}");
        }

        _status = new Status(status.ResolvedAt, status.FailingSince ?? DateTimeOffset.UtcNow, failure);
    }

    /// <summary>
    /// For the runtime API: "resolved at …" while the name resolves, "last resolved at …, failing since …: reason" when
    /// it does not.
    /// </summary>
    public string Describe()
    {
        Status status = _status;
        string resolved = status.ResolvedAt is { } at ? Time(at) : "never";
        return status.FailingSince is { } since
            ? $"last resolved at {resolved}, failing since {Time(since)}: {status.Failure}"
            : $"resolved at {resolved}";
    }

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private sealed record Status(DateTimeOffset? ResolvedAt, DateTimeOffset? FailingSince, string? Failure);
}
