namespace PluginProxy.Abstractions.Http;

/// <summary>Character classes of RFC 9110 used to validate what analyzers and scripts write into messages.</summary>
public static class HttpSyntax
{
    /// <summary>True for a <c>tchar</c>: the characters allowed in tokens (header names, methods).</summary>
    public static bool IsTokenChar(char c) =>
        c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9')
            or '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~';

    /// <summary>True for a byte allowed in a request-target: visible ASCII.</summary>
    public static bool IsTargetChar(char c) => c is > ' ' and < (char)0x7F;

    /// <summary>
    /// The host of a <c>Host</c> / <c>:authority</c> value without its port: <c>example.com:8080</c> gives
    /// <c>example.com</c>, <c>[::1]:8080</c> gives <c>[::1]</c>.
    /// </summary>
    public static ReadOnlySpan<byte> HostWithoutPort(ReadOnlySpan<byte> host)
    {
        if (host.Length > 0 && host[0] == '[')
        {
            int close = host.IndexOf((byte)']');
            return close < 0 ? host : host[..(close + 1)];
        }

        int colon = host.LastIndexOf((byte)':');
        return colon < 0 ? host : host[..colon];
    }
}
