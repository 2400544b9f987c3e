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
}
