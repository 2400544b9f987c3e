using System.Diagnostics;
using System.Globalization;
using System.Text;
using PluginProxy.Abstractions;
using PluginProxy.Host.Configuration;

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
        line.Append(EndPoints.Format(connection.ClientEndPoint));
        line.Append(" [").Append(connection.AcceptedAt.UtcDateTime.ToString("dd/MMM/yyyy:HH:mm:ss.fff", CultureInfo.InvariantCulture)).Append("] ");
        line.Append(connection.ListenerName).Append(' ');
        line.Append(log.Backend ?? "-").Append('/').Append(log.Server ?? "-").Append(' ');
        line.Append(log.ConnectTime is { } connect ? ((long)connect.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) : "-1");
        line.Append('/').Append((long)Stopwatch.GetElapsedTime(connection.AcceptedTimestamp, endTimestamp).TotalMilliseconds);
        line.Append(" in=").Append(log.BytesFromClient).Append(" out=").Append(log.BytesFromServer);
        line.Append(' ').Append(SnakeCase(log.Termination));
        line.Append(" retries=").Append(log.Retries);
        if (log.Detail is { Length: > 0 } detail)
        {
            line.Append(" \"").Append(detail.Replace('"', '\'')).Append('"');
        }

        return line.ToString();
    }

    private static readonly Dictionary<SessionTermination, string> Names =
        Enum.GetValues<SessionTermination>().ToDictionary(t => t, t => ToSnake(t.ToString()));

    public static string SnakeCase(SessionTermination termination) => Names[termination];

    private static string ToSnake(string name)
    {
        var builder = new StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                builder.Append('_');
            }

            builder.Append(char.ToLowerInvariant(name[i]));
        }

        return builder.ToString();
    }
}
