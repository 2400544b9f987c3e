using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PluginProxy.Abstractions;

/// <summary>How logs write endpoints and terminations, the same way in the host and in every plugin.</summary>
public static class LogNames
{
    private static readonly string[] TerminationNames =
        Enum.GetValues<SessionTermination>().Select(t => ToSnakeCase(t.ToString())).ToArray();

    /// <summary>The snake_case name of a termination, as logs write it: <c>client_timeout</c>.</summary>
    public static string ToLogName(this SessionTermination termination) => TerminationNames[(int)termination];

    /// <summary><c>192.0.2.1:443</c>, <c>[2001:db8::1]:443</c>; IPv4-mapped IPv6 addresses are written as IPv4; null as <c>-</c>.</summary>
    public static string Format(EndPoint? endPoint) => endPoint switch
    {
        IPEndPoint { AddressFamily: AddressFamily.InterNetworkV6 } ip when ip.Address.IsIPv4MappedToIPv6 =>
            $"{ip.Address.MapToIPv4()}:{ip.Port}",
        IPEndPoint ip => ip.ToString(),
        null => "-",
        _ => endPoint.ToString() ?? "-",
    };

    private static string ToSnakeCase(string name)
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
