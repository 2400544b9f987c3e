using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace PluginProxy.Host.Configuration;

/// <summary>Parses <c>host:port</c> notations: <c>127.0.0.1:80</c>, <c>[::1]:80</c>, <c>*:80</c>, <c>localhost:80</c>.</summary>
internal static class EndPoints
{
    public static bool TryParse(string text, bool forBind, out IPEndPoint? endPoint, out string? error)
    {
        endPoint = null;
        if (!TrySplit(text, forBind, out string host, out int port, out IPAddress? literal, out error))
        {
            return false;
        }

        if (literal is not null)
        {
            endPoint = new IPEndPoint(literal, port);
            return true;
        }

        try
        {
            IPAddress[] addresses = Dns.GetHostAddresses(host);
            IPAddress? chosen = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault();
            if (chosen is null)
            {
                error = $"\"{host}\" resolves to no address";
                return false;
            }

            endPoint = new IPEndPoint(chosen, port);
            return true;
        }
        catch (SocketException ex)
        {
            error = $"\"{host}\" cannot be resolved ({ex.Message})";
            return false;
        }
    }

    /// <summary>
    /// Splits <c>host:port</c> without resolving anything: <paramref name="literal"/> is the address when the host is
    /// one (or the wildcard, for a bind), else null and <paramref name="host"/> is a host name to resolve.
    /// </summary>
    public static bool TrySplit(string text, bool forBind, out string host, out int port, out IPAddress? literal, out string? error)
    {
        literal = null;
        error = null;
        port = 0;
        string portText;
        if (text.StartsWith('['))
        {
            int close = text.IndexOf(']');
            if (close < 0 || close + 1 >= text.Length || text[close + 1] != ':')
            {
                host = "";
                error = $"\"{text}\" is not an address; write an IPv6 address as \"[::1]:8080\"";
                return false;
            }

            host = text[1..close];
            portText = text[(close + 2)..];
        }
        else
        {
            int colon = text.LastIndexOf(':');
            if (colon < 0 || text.IndexOf(':') != colon)
            {
                host = "";
                error = colon < 0
                    ? $"\"{text}\" has no port; write \"host:port\", for example \"127.0.0.1:8080\""
                    : $"\"{text}\" is ambiguous; write an IPv6 address in brackets: \"[::1]:8080\"";
                return false;
            }

            host = text[..colon];
            portText = text[(colon + 1)..];
        }

        int minPort = forBind ? 0 : 1;
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port < minPort || port > 65535)
        {
            error = $"\"{text}\" has an invalid port \"{portText}\"; a port is a number from {minPort} to 65535";
            return false;
        }

        if (forBind && (host is "" or "*"))
        {
            literal = IPAddress.Any;
            return true;
        }

        if (IPAddress.TryParse(host, out literal))
        {
            return true;
        }

        // A dotted quad that did not parse is a typo, not a name to look up.
        if (host.Length == 0 || host.All(c => char.IsAsciiDigit(c) || c == '.') || Uri.CheckHostName(host) != UriHostNameType.Dns)
        {
            error = $"\"{text}\" has an invalid host \"{host}\"";
            return false;
        }

        return true;
    }

    /// <summary>
    /// True for a name an SRV query may ask for: dot-separated labels of letters, digits, '-' and '_' (the service and
    /// protocol labels start with '_': <c>_http._tcp.app.internal</c>), at most 63 characters each and 253 in all.
    /// </summary>
    public static bool IsSrvName(string name) =>
        name.Length is > 0 and <= 253
        && name.TrimEnd('.').Split('.').All(label => label.Length is > 0 and <= 63 && label.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'));

    /// <summary>Formats an endpoint the way the configuration writes it.</summary>
    public static string Format(EndPoint? endPoint) => Abstractions.LogNames.Format(endPoint);
}
