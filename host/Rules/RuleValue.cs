using System.Net;
using System.Text;

namespace PluginProxy.Host.Rules;

/// <summary>
/// A text a rule writes (a header value, a redirect's location, a variable): constant, or with variables that are
/// replaced per message: <c>%[src]</c> (the client's address), <c>%[host]</c> (the request's host, port included),
/// <c>%[path]</c>, <c>%[query]</c> (with its <c>?</c>), <c>%[method]</c>, <c>%[hdr.NAME]</c> (the request field's first
/// value), <c>%[var.NAME]</c> (a stream variable). A constant costs nothing per message; a variable makes one string.
/// </summary>
internal sealed class RuleValue
{
    /// <summary>The variables, as written between <c>%[</c> and <c>]</c>.</summary>
    public static readonly string[] Variables = ["src", "host", "path", "query", "method", "hdr.NAME", "var.NAME"];

    private readonly string? _constant;
    private readonly (string? Text, string? Variable, string? Argument)[] _parts;

    private RuleValue(string? constant, (string?, string?, string?)[] parts)
    {
        _constant = constant;
        _parts = parts;
    }

    /// <summary>True when the text has no variable.</summary>
    public bool IsConstant => _constant is not null;

    /// <summary>The text when it has no variable.</summary>
    public string? Constant => _constant;

    /// <summary>Compiles <paramref name="text"/>; <paramref name="problem"/> says what is wrong when it returns null.</summary>
    public static RuleValue? Parse(string text, out string? problem)
    {
        problem = null;
        if (!text.Contains("%[", StringComparison.Ordinal))
        {
            return new RuleValue(text, []);
        }

        var parts = new List<(string?, string?, string?)>();
        int at = 0;
        while (at < text.Length)
        {
            int open = text.IndexOf("%[", at, StringComparison.Ordinal);
            if (open < 0)
            {
                parts.Add((text[at..], null, null));
                break;
            }

            if (open > at)
            {
                parts.Add((text[at..open], null, null));
            }

            int close = text.IndexOf(']', open);
            if (close < 0)
            {
                problem = $"\"{text}\": `%[` at {open + 1} has no closing `]`";
                return null;
            }

            string name = text[(open + 2)..close];
            int dot = name.IndexOf('.');
            (string variable, string? argument) = dot < 0 ? (name, null) : (name[..dot], name[(dot + 1)..]);
            bool known = dot < 0 ? variable is "src" or "host" or "path" or "query" or "method" : variable is "hdr" or "var" && argument!.Length > 0;
            if (!known)
            {
                problem = $"\"{text}\": `%[{name}]` is not a variable; use {string.Join(", ", Variables.Select(v => $"%[{v}]"))}";
                return null;
            }

            parts.Add((null, variable, argument));
            at = close + 1;
        }

        return new RuleValue(null, [.. parts]);
    }

    /// <summary>The text for this message.</summary>
    public string Render(in RuleInput input)
    {
        if (_constant is not null)
        {
            return _constant;
        }

        var text = new StringBuilder();
        foreach ((string? literal, string? variable, string? argument) in _parts)
        {
            text.Append(literal ?? Resolve(input, variable!, argument));
        }

        return text.ToString();
    }

    private static string Resolve(in RuleInput input, string variable, string? argument)
    {
        if (variable == "src")
        {
            return input.Stream.Session.Connection.ClientEndPoint is IPEndPoint client
                ? (client.Address.IsIPv4MappedToIPv6 ? client.Address.MapToIPv4() : client.Address).ToString()
                : "";
        }

        if (variable == "var")
        {
            return input.Stream.HasVariables && input.Stream.Variables.TryGetValue(argument!, out object? value) ? value?.ToString() ?? "" : "";
        }

        if (input.Request is not { } request)
        {
            return "";
        }

        return variable switch
        {
            "host" => request.Host ?? "",
            "path" => request.Path,
            "query" => request.Query,
            "method" => request.Method,
            _ => request.Headers.Get(argument!) ?? "",
        };
    }
}
