using System.Diagnostics;
using System.Globalization;
using System.Text;
using PluginProxy.Abstractions;

namespace PluginProxy.Host.Logging;

/// <summary>
/// Formats the one line written per session when it ends, in the spirit of HAProxy's tcplog:
/// <c>client [accept date] listener backend/server Tc/Tt in=bytes out=bytes termination retries=n "detail"</c>.
/// Tc is the connect time in ms (-1 when no server was reached), Tt the session's whole duration in ms.
/// </summary>
internal static class SessionLogFormatter
{
    public static string Format(AcceptedConnection connection, SessionLog log, long endTimestamp)
    {
        var line = new StringBuilder(160);
        line.Append(LogNames.Format(connection.ClientEndPoint));
        line.Append(" [").Append(connection.AcceptedAt.UtcDateTime.ToString("dd/MMM/yyyy:HH:mm:ss.fff", CultureInfo.InvariantCulture)).Append("] ");
        line.Append(connection.ListenerName).Append(' ');
        line.Append(log.Backend ?? "-").Append('/').Append(log.Server ?? "-").Append(' ');
        line.Append(log.ConnectTime is { } connect ? ((long)connect.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) : "-1");
        line.Append('/').Append((long)Stopwatch.GetElapsedTime(connection.AcceptedTimestamp, endTimestamp).TotalMilliseconds);
        line.Append(" in=").Append(log.BytesFromClient).Append(" out=").Append(log.BytesFromServer);
        line.Append(' ').Append(log.Termination.ToLogName());
        line.Append(" retries=").Append(log.Retries);
        if (log.Detail is { Length: > 0 } detail)
        {
            line.Append(" \"").Append(detail.Replace('"', '\'')).Append('"');
        }

        return line.ToString();
    }
}
