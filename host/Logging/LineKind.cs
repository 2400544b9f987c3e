namespace PluginProxy.Host.Logging;

/// <summary>What a traffic-log line is about: its tag (<c>access</c>, <c>session</c>) and level.</summary>
internal enum LineKind
{
    /// <summary>An HTTP stream, or a line of a supervisor's own: <c>info  access</c>, syslog MSGID <c>access</c>.</summary>
    Access,

    /// <summary>A tcp session that ended: <c>info  session</c>, syslog MSGID <c>session</c>.</summary>
    Session,

    /// <summary>A connection refused before it became a session: <c>warn  session</c>, syslog severity warning.</summary>
    Refused,
}
