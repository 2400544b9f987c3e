namespace PluginProxy.Host.Configuration;

/// <summary>
/// The traffic log's settings in [global]: <c>access_log_format</c>, <c>access_log_target</c> and
/// <c>access_log_facility</c> (syslog targets only). Every one follows a configuration reload.
/// </summary>
internal sealed record AccessLogConfig
{
    public static readonly AccessLogConfig Default = new();

    public AccessLogFormat Format { get; init; } = AccessLogFormat.Text;

    public AccessLogTarget Target { get; init; } = AccessLogTarget.Stdout;

    /// <summary>Where <c>access_log_target</c> is written (for errors found when it is opened), or null when it is not.</summary>
    public SourceSpot? TargetSpot { get; init; }

    /// <summary>The syslog facility code (16 = local0, the default).</summary>
    public int Facility { get; init; } = 16;
}
