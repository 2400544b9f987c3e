using System.Globalization;
using System.Text;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Logging;

/// <summary>
/// What goes in front of each traffic-log line. On standard output, standard error or a file: for the text format, the
/// process log's own prefix (<c>2026-11-30T00:14:04.703Z info  access: </c>), so the lines read like the rest of the
/// log; for JSON, nothing (each line is one JSON object). For syslog: the RFC 5424 header,
/// <c>&lt;134&gt;1 2026-11-30T00:14:04.703Z host pluginproxy 4242 access - </c> (facility and severity, the time, the
/// host name, APP-NAME, PROCID, MSGID, no structured data).
/// </summary>
internal sealed class LinePrefix
{
    /// <summary>Room for any prefix.</summary>
    public const int MaxLength = 128 + MaxHostName;

    private const int MaxHostName = 255;
    private const int SeverityInfo = 6;
    private const int SeverityWarning = 4;

    private readonly bool _syslog;
    private readonly bool _json;
    private readonly int _facility;
    private readonly byte[] _hostAppPid;

    public LinePrefix(AccessLogConfig config)
    {
        _syslog = config.Target.IsSyslog;
        _json = config.Format == AccessLogFormat.Json;
        _facility = config.Facility;
        _hostAppPid = Encoding.ASCII.GetBytes($" {HostName()} pluginproxy {Environment.ProcessId} ");
    }

    /// <summary>Writes the prefix of a line of <paramref name="kind"/> (at least <see cref="MaxLength"/> bytes of room) and returns its length.</summary>
    public int Write(Span<byte> target, LineKind kind)
    {
        if (_syslog)
        {
            int severity = kind == LineKind.Refused ? SeverityWarning : SeverityInfo;
            int n = 0;
            target[n++] = (byte)'<';
            (_facility * 8 + severity).TryFormat(target[n..], out int written, default, CultureInfo.InvariantCulture);
            n += written;
            ">1 "u8.CopyTo(target[n..]);
            n += 3;
            n += WriteTime(target[n..]);
            _hostAppPid.CopyTo(target[n..]);
            n += _hostAppPid.Length;
            ReadOnlySpan<byte> messageId = kind == LineKind.Access ? "access - "u8 : "session - "u8;
            messageId.CopyTo(target[n..]);
            return n + messageId.Length;
        }

        if (_json)
        {
            return 0;
        }

        int length = WriteTime(target);
        ReadOnlySpan<byte> tag = kind switch
        {
            LineKind.Access => " info  access: "u8,
            LineKind.Session => " info  session: "u8,
            _ => " warn  session: "u8,
        };
        tag.CopyTo(target[length..]);
        return length + tag.Length;
    }

    private static int WriteTime(Span<byte> target)
    {
        DateTime.UtcNow.TryFormat(target, out int written, "yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        return written;
    }

    /// <summary>The host name as RFC 5424 allows it: printable ASCII without spaces, at most 255 characters, else <c>-</c>.</summary>
    private static string HostName()
    {
        string name = Environment.MachineName;
        var clean = new StringBuilder(Math.Min(name.Length, MaxHostName));
        foreach (char c in name)
        {
            if (c is > ' ' and < (char)127 && clean.Length < MaxHostName)
            {
                clean.Append(c);
            }
        }

        return clean.Length == 0 ? "-" : clean.ToString();
    }
}
