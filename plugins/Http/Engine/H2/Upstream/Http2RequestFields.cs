using PluginProxy.Abstractions.Http;

namespace PluginProxy.Http.Engine.H2.Upstream;

/// <summary>
/// Builds the field list of a request head or trailers sent to an HTTP/2 server (RFC 9113 §8.2–8.3.1): pseudo-fields
/// first, names lowercased, and no connection-specific field.
/// </summary>
internal static class Http2RequestFields
{
    /// <summary>The request head: <c>:method</c>, <c>:scheme</c>, <c>:authority</c> (when not empty), <c>:path</c>, then the regular fields.</summary>
    /// <exception cref="ArgumentException">A pseudo-field is missing or a name or value is invalid.</exception>
    public static List<KeyValuePair<string, string>> Build(string method, string scheme, string authority, string path,
        IEnumerable<KeyValuePair<string, string>>? fields)
    {
        if (method.Length == 0 || !method.All(HttpSyntax.IsTokenChar))
        {
            throw new ArgumentException($"\"{method}\" is not a valid method", nameof(method));
        }

        bool connect = method == "CONNECT";
        if (!connect && (scheme.Length == 0 || path.Length == 0))
        {
            throw new ArgumentException("a request other than CONNECT needs :scheme and :path", nameof(path));
        }

        CheckValue(":authority", authority);
        CheckValue(":path", path);
        var list = new List<KeyValuePair<string, string>> { new(":method", method) };
        if (!connect)
        {
            list.Add(new(":scheme", scheme));
        }

        if (authority.Length > 0)
        {
            list.Add(new(":authority", authority));
        }

        if (!connect)
        {
            list.Add(new(":path", path));
        }

        AddRegular(list, fields, dropHost: authority.Length > 0);
        return list;
    }

    /// <summary>A trailer section: the regular fields only.</summary>
    public static List<KeyValuePair<string, string>> BuildTrailers(IEnumerable<KeyValuePair<string, string>> trailers)
    {
        var list = new List<KeyValuePair<string, string>>();
        AddRegular(list, trailers, dropHost: false);
        return list;
    }

    /// <summary>The size HTTP/2 counts for a field list (name + value + 32 per field, RFC 9113 §6.5.2).</summary>
    public static long ListSize(IReadOnlyList<KeyValuePair<string, string>> fields)
    {
        long size = 0;
        foreach (KeyValuePair<string, string> field in fields)
        {
            size += field.Key.Length + field.Value.Length + 32;
        }

        return size;
    }

    private static void AddRegular(List<KeyValuePair<string, string>> list, IEnumerable<KeyValuePair<string, string>>? fields, bool dropHost)
    {
        if (fields is null)
        {
            return;
        }

        List<KeyValuePair<string, string>> all = [.. fields];
        var named = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (KeyValuePair<string, string> field in all)
        {
            if (string.Equals(field.Key, "connection", StringComparison.OrdinalIgnoreCase))
            {
                named.UnionWith(field.Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
            }
        }

        foreach (KeyValuePair<string, string> field in all)
        {
            if (field.Key.Length == 0 || !field.Key.All(HttpSyntax.IsTokenChar))
            {
                throw new ArgumentException($"\"{field.Key}\" is not a valid field name", nameof(fields));
            }

            CheckValue(field.Key, field.Value);
            string name = field.Key.ToLowerInvariant();
            if (IsLeftOut(name, field.Value, dropHost) || named.Contains(name))
            {
                continue;
            }

            list.Add(new(name, field.Value.Trim(' ', '\t')));
        }
    }

    private static bool IsLeftOut(string name, string value, bool dropHost) => name switch
    {
        "connection" or "keep-alive" or "proxy-connection" or "transfer-encoding" or "upgrade" => true,
        "te" => !string.Equals(value.Trim(), "trailers", StringComparison.OrdinalIgnoreCase),
        "host" => dropHost,
        _ => false,
    };

    private static void CheckValue(string name, string value)
    {
        if (value.Any(c => c is '\r' or '\n' or '\0' || c > 0xFF))
        {
            throw new ArgumentException($"the value of field \"{name}\" holds CR, LF, NUL or a character beyond Latin-1", nameof(value));
        }
    }
}
