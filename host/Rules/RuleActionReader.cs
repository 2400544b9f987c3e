using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Rules;

/// <summary>Reads the one action of a rule table into a compiled <see cref="RuleAction"/>, each error at its place.</summary>
internal static class RuleActionReader
{
    /// <summary>The action keys, in the order they are documented.</summary>
    public static readonly string[] Keys = ["deny", "redirect", "respond", "set_header", "add_header", "del_header", "rewrite_path", "backend", "set_var"];

    /// <summary>Actions that only make sense on a request: the path and the backend are settled once the server answered.</summary>
    private static readonly string[] RequestOnly = ["rewrite_path", "backend"];

    private static readonly int[] RedirectStatuses = [301, 302, 303, 307, 308];

    /// <summary>
    /// The action <paramref name="key"/> of <paramref name="rule"/>; a backend it names is added to
    /// <paramref name="backends"/> (so that it must exist, and counts as reachable).
    /// </summary>
    public static RuleAction? Read(TableReader rule, string key, ChannelDirection side, Action<Named> backends)
    {
        if (side == ChannelDirection.Response && RequestOnly.Contains(key))
        {
            rule.Table.Find(key)!.Used = true;
            rule.Error(rule.Table.Find(key)!.KeySpot, $"`{key}` is a request action: once the server answered, the {(key == "backend" ? "backend is chosen" : "path was sent")}; use it in [[listener.http_request]]");
            return null;
        }

        switch (key)
        {
            case "deny":
                return Deny(rule);
            case "redirect":
                return Redirect(rule);
            case "respond":
                return rule.SubTable(key, "`respond`") is { } respond ? Respond(respond) : null;
            case "set_header" or "add_header":
                return rule.SubTable(key, $"`{key}`") is { } header && NameAndValue(header, "a header name such as \"X-Frame-Options\"", header: true) is ({ } name, { } value)
                    ? new HeaderAction(key == "add_header", name, value) : null;
            case "del_header":
                List<(string Value, SourceSpot Spot)>? names = rule.StringList(key, what: "a header name, or a list of them");
                return names is not null && names.All(n => HeaderName(rule, n.Value, n.Spot)) ? new DelHeaderAction(names.Select(n => n.Value).ToArray()) : null;
            case "rewrite_path":
                return rule.SubTable(key, "`rewrite_path`") is { } rewrite ? RewritePath(rewrite) : null;
            case "backend":
                if (rule.SpottedString(key, required: true, what: "the name of a [[backend]]") is not { } backend)
                {
                    return null;
                }

                backends(new Named(backend.Value, backend.Spot));
                return new BackendAction(backend.Value);
            default:
                return rule.SubTable(key, "`set_var`") is { } variable && NameAndValue(variable, "a variable name", header: false) is ({ } variableName, { } text)
                    ? new SetVarAction(variableName, text) : null;
        }
    }

    private static RuleAction? Deny(TableReader rule)
    {
        TomlEntry entry = rule.Table.Find("deny")!;
        if (entry.Value is TomlValueNode { Value: true })
        {
            entry.Used = true;
            return new ReplyAction(AnalyzerReply.Text(403, "Forbidden\n"));
        }

        if (entry.Value is TomlValueNode { Value: false })
        {
            entry.Used = true;
            rule.Error(entry.Value.Spot, "`deny = false` does nothing: remove the rule, or give the status to deny with (deny = 403)");
            return null;
        }

        long? status = rule.Integer("deny", 400, 599);
        return status is { } s ? new ReplyAction(AnalyzerReply.Text((int)s, $"{ReasonOf((int)s)}\n")) : null;
    }

    private static RuleAction? Redirect(TableReader rule)
    {
        TomlEntry entry = rule.Table.Find("redirect")!;
        (string Value, SourceSpot Spot)? location;
        long status = 302;
        if (entry.Value is TomlValueNode { Value: string })
        {
            location = rule.SpottedString("redirect", what: "a location");
        }
        else if (rule.SubTable("redirect", "`redirect`") is { } table)
        {
            location = table.SpottedString("location", required: true, what: "where to send the client, such as \"https://%[host]%[path]\"");
            if (table.Integer("status", 301, 308) is { } given)
            {
                if (!RedirectStatuses.Contains((int)given))
                {
                    table.Error(table.SpotOf("status"), $"a redirect's `status` must be one of {string.Join(", ", RedirectStatuses)}, not {given}");
                    return null;
                }

                status = given;
            }

            table.RejectUnknownKeys(["location", "status"]);
        }
        else
        {
            return null;
        }

        return location is { } l && Value(rule, l.Value, l.Spot, "the location") is { } value ? new RedirectAction(value, (int)status) : null;
    }

    private static RuleAction? Respond(TableReader table)
    {
        long status = table.Integer("status", 100, 599) ?? 200;
        string body = table.String("body", what: "the body text") ?? "";
        (string Value, SourceSpot Spot)? contentType = table.SpottedString("content_type", what: "a media type such as \"application/json\"");
        table.RejectUnknownKeys(["status", "body", "content_type"]);
        if (contentType is { } type && !ValidValue(table, type.Value, type.Spot, "the content type"))
        {
            return null;
        }

        return new ReplyAction(AnalyzerReply.Text((int)status, body, contentType?.Value ?? "text/plain; charset=utf-8"));
    }

    private static RuleAction? RewritePath(TableReader table)
    {
        (string Value, SourceSpot Spot)? from = table.SpottedString("from_prefix", required: true, what: "the start of the path to replace, such as \"/old/\"");
        (string Value, SourceSpot Spot)? to = table.SpottedString("to", required: true, what: "what replaces it, such as \"/new/\"");
        table.RejectUnknownKeys(["from_prefix", "to"]);
        bool valid = from is not null && to is not null;
        foreach ((string key, (string Value, SourceSpot Spot)? path) in new[] { ("from_prefix", from), ("to", to) })
        {
            if (path is { } p && (p.Value.Length == 0 || p.Value[0] != '/' || !p.Value.All(HttpSyntax.IsTargetChar) || p.Value.Contains('?')))
            {
                table.Error(p.Spot, $"`{key}` \"{p.Value}\" is not a path: it must start with '/' and hold only visible ASCII characters other than '?'");
                valid = false;
            }
        }

        return valid ? new RewritePathAction(from!.Value.Value, to!.Value.Value) : null;
    }

    private static (string? Name, RuleValue? Value) NameAndValue(TableReader table, string what, bool header)
    {
        (string Value, SourceSpot Spot)? name = table.SpottedString("name", required: true, what: what);
        (string Value, SourceSpot Spot)? text = table.SpottedString("value", required: true, what: "the text (it may use %[src], %[host], ...)");
        table.RejectUnknownKeys(["name", "value"]);
        if (name is not { } n || text is not { } t || (header && !HeaderName(table, n.Value, n.Spot)))
        {
            return (null, null);
        }

        if (!header && n.Value.Length == 0)
        {
            table.Error(n.Spot, "`name` must not be empty");
            return (null, null);
        }

        return Value(table, t.Value, t.Spot, "the value") is { } value ? (n.Value, value) : (null, null);
    }

    private static RuleValue? Value(TableReader table, string text, SourceSpot spot, string what)
    {
        if (!ValidValue(table, text, spot, what))
        {
            return null;
        }

        RuleValue? value = RuleValue.Parse(text, out string? problem);
        if (value is null)
        {
            table.Error(spot, problem!);
        }

        return value;
    }

    private static bool ValidValue(TableReader table, string text, SourceSpot spot, string what)
    {
        foreach (char c in text)
        {
            if (c is '\r' or '\n' or '\0' || c > 0xFF || (c < 0x20 && c != '\t') || c == 0x7F)
            {
                table.Error(spot, $"{what} holds a control character or a character beyond Latin-1 (U+{(int)c:X4}); a header can carry neither");
                return false;
            }
        }

        return true;
    }

    private static bool HeaderName(TableReader table, string name, SourceSpot spot)
    {
        if (name.Length > 0 && name.All(HttpSyntax.IsTokenChar))
        {
            return true;
        }

        table.Error(spot, $"\"{name}\" is not a header name: use letters, digits and !#$%&'*+-.^_`|~");
        return false;
    }

    private static string ReasonOf(int status) => status switch
    {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        410 => "Gone",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Denied",
    };
}
