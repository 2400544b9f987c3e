using System.Net;

namespace PluginProxy.Host.Configuration;

/// <summary>
/// The traffic log's keys: <c>access_log_format</c>, <c>access_log_target</c> and <c>access_log_facility</c> in
/// [global]; <c>capture_request_headers</c> and <c>capture_response_headers</c> in a listener or [defaults]. Each wrong
/// value is reported at its place.
/// </summary>
internal static class AccessLogKeys
{
    private const string TargetWhat = "\"stdout\", \"stderr\", a file path, \"udp://host:port\" or \"unix:///dev/log\"";

    /// <summary>The syslog facilities by name, as HAProxy's <c>log</c> names them.</summary>
    public static readonly IReadOnlyDictionary<string, int> Facilities = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["kern"] = 0, ["user"] = 1, ["mail"] = 2, ["daemon"] = 3, ["auth"] = 4, ["syslog"] = 5, ["lpr"] = 6, ["news"] = 7,
        ["uucp"] = 8, ["cron"] = 9, ["auth2"] = 10, ["ftp"] = 11, ["ntp"] = 12, ["audit"] = 13, ["alert"] = 14, ["cron2"] = 15,
        ["local0"] = 16, ["local1"] = 17, ["local2"] = 18, ["local3"] = 19, ["local4"] = 20, ["local5"] = 21, ["local6"] = 22, ["local7"] = 23,
    };

    /// <summary>Reads the [global] keys; what is absent or wrong keeps its default (the error is recorded).</summary>
    public static AccessLogConfig ReadGlobal(TableReader table, string baseDirectory)
    {
        var config = AccessLogConfig.Default;
        if (table.SpottedString("access_log_format", what: "\"text\" or \"json\"") is { } format)
        {
            switch (format.Value)
            {
                case "text": break;
                case "json": config = config with { Format = AccessLogFormat.Json }; break;
                default:
                    table.Error(format.Spot, $"`access_log_format`: \"{format.Value}\" is not a format; use \"text\" (the HAProxy-like line) or \"json\" (one JSON object per line)");
                    break;
            }
        }

        bool targetRefused = false;
        if (table.SpottedString("access_log_target", what: TargetWhat) is { } target)
        {
            config = config with { TargetSpot = target.Spot };
            if (ParseTarget(target.Value, baseDirectory, out string? problem) is { } parsed)
            {
                config = config with { Target = parsed };
            }
            else
            {
                table.Error(target.Spot, $"`access_log_target`: {problem}");
                targetRefused = true;
            }
        }

        if (table.SpottedString("access_log_facility", what: "a syslog facility such as \"local0\"") is { } facility)
        {
            if (!Facilities.TryGetValue(facility.Value, out int code))
            {
                string? suggestion = TableReader.Suggest(facility.Value, Facilities.Keys);
                table.Error(facility.Spot, $"`access_log_facility`: \"{facility.Value}\" is not a syslog facility; "
                    + (suggestion is not null ? $"did you mean \"{suggestion}\"?" : $"use one of {string.Join(", ", Facilities.Keys)}"));
            }
            else if (!config.Target.IsSyslog && !targetRefused)
            {
                table.Error(facility.Spot, "`access_log_facility` has no use unless `access_log_target` is syslog (\"udp://127.0.0.1:514\" or \"unix:///dev/log\"); set such a target or remove it");
            }
            else
            {
                config = config with { Facility = code };
            }
        }

        return config;
    }

    /// <summary>Parses <c>access_log_target</c>; null with a reason when it names no usable destination.</summary>
    public static AccessLogTarget? ParseTarget(string text, string baseDirectory, out string? problem)
    {
        problem = null;
        switch (text)
        {
            case "":
                problem = $"an empty target; use {TargetWhat}";
                return null;
            case "stdout":
                return AccessLogTarget.Stdout;
            case "stderr":
                return new AccessLogTarget(AccessLogTargetKind.Stderr);
        }

        if (text.StartsWith("udp://", StringComparison.Ordinal))
        {
            string address = text["udp://".Length..];
            bool hasPort = address.StartsWith('[') ? address.Contains("]:", StringComparison.Ordinal) : address.Contains(':');
            if (!EndPoints.TryParse(hasPort ? address : address + ":514", forBind: false, out IPEndPoint? endPoint, out string? error))
            {
                problem = $"{error} (a syslog server is \"udp://127.0.0.1:514\"; the port defaults to 514)";
                return null;
            }

            return new AccessLogTarget(AccessLogTargetKind.SyslogUdp, EndPoint: endPoint);
        }

        if (text.StartsWith("unix://", StringComparison.Ordinal))
        {
            string path = text["unix://".Length..];
            if (!path.StartsWith('/'))
            {
                problem = $"\"{text}\" does not name an absolute socket path; write three slashes: \"unix:///dev/log\"";
                return null;
            }

            if (System.Text.Encoding.UTF8.GetByteCount(path) > 107)
            {
                problem = $"{path} is longer than a Unix socket path may be (107 bytes)";
                return null;
            }

            return new AccessLogTarget(AccessLogTargetKind.SyslogUnix, Path: path);
        }

        if (text.Contains("://", StringComparison.Ordinal))
        {
            problem = $"\"{text}\" is not a target this proxy can write to; use {TargetWhat}";
            return null;
        }

        string file = Path.GetFullPath(text, baseDirectory);
        if (Directory.Exists(file))
        {
            problem = $"{file} is a folder; name a file in it, such as {Path.Combine(file, "access.log")}";
            return null;
        }

        if (!Directory.Exists(Path.GetDirectoryName(file)))
        {
            problem = $"the folder {Path.GetDirectoryName(file)} does not exist; create it (writable by the proxy's user) or choose another path";
            return null;
        }

        return new AccessLogTarget(AccessLogTargetKind.File, Path: file);
    }

    /// <summary>
    /// Reads <c>capture_request_headers</c> and <c>capture_response_headers</c>; each one absent from
    /// <paramref name="table"/> is inherited from <paramref name="inherited"/> (the [defaults] ones).
    /// </summary>
    public static HeaderCapture ReadCapture(TableReader table, HeaderCapture inherited)
    {
        IReadOnlyList<CapturedHeader> request = ReadList(table, "capture_request_headers") ?? inherited.Request;
        IReadOnlyList<CapturedHeader> response = ReadList(table, "capture_response_headers") ?? inherited.Response;
        return request.Count == 0 && response.Count == 0 ? HeaderCapture.None : new HeaderCapture(request, response);
    }

    private static List<CapturedHeader>? ReadList(TableReader table, string key)
    {
        if (table.Table.Find(key) is not { } entry)
        {
            return null;
        }

        entry.Used = true;
        if (entry.Value is not TomlArrayNode array)
        {
            table.Error(entry.Value.Spot, $"`{key}` must be a list of header names such as [\"Host\", {{ name = \"User-Agent\", len = 64 }}], not {entry.Value.Describe()}");
            return [];
        }

        var headers = new List<CapturedHeader>(array.Items.Count);
        foreach (TomlNode item in array.Items)
        {
            if (ReadHeader(table, key, item) is { } header)
            {
                if (headers.Exists(h => string.Equals(h.Name, header.Name, StringComparison.OrdinalIgnoreCase)))
                {
                    table.Error(item.Spot, $"`{key}`: \"{header.Name}\" is listed twice");
                }
                else
                {
                    headers.Add(header);
                }
            }
        }

        return headers;
    }

    /// <summary>One item: <c>"Host"</c> or <c>{ name = "Host", len = 64 }</c>.</summary>
    private static CapturedHeader? ReadHeader(TableReader table, string key, TomlNode item)
    {
        string? name = null;
        SourceSpot nameSpot = item.Spot;
        long length = CapturedHeader.DefaultLength;
        switch (item)
        {
            case TomlValueNode { Value: string text }:
                name = text;
                break;
            case TomlTableNode inline:
                foreach (TomlEntry field in inline.Entries)
                {
                    switch (field.Key, field.Value)
                    {
                        case ("name", TomlValueNode { Value: string text }):
                            name = text;
                            nameSpot = field.Value.Spot;
                            break;
                        case ("len", TomlValueNode { Value: long len }):
                            if (len is < 1 or > CapturedHeader.MaxLength)
                            {
                                table.Error(field.Value.Spot, $"`{key}`: `len` must be from 1 to {CapturedHeader.MaxLength} bytes, not {len}");
                                return null;
                            }

                            length = len;
                            break;
                        case ("name", _):
                            table.Error(field.Value.Spot, $"`{key}`: `name` must be a header name such as \"User-Agent\", not {field.Value.Describe()}");
                            return null;
                        case ("len", _):
                            table.Error(field.Value.Spot, $"`{key}`: `len` must be an integer (bytes kept of the value), not {field.Value.Describe()}");
                            return null;
                        default:
                            string? suggestion = TableReader.Suggest(field.Key, ["name", "len"]);
                            table.Error(field.KeySpot, $"unknown key `{field.Key}` in a header of `{key}`; " + (suggestion is not null ? $"did you mean `{suggestion}`?" : "use `name` and `len`"));
                            return null;
                    }
                }

                if (name is null)
                {
                    table.Error(item.Spot, $"`{key}`: a header needs `name`, for example {{ name = \"User-Agent\", len = 64 }}");
                    return null;
                }

                break;
            default:
                table.Error(item.Spot, $"`{key}` must hold header names (\"Host\") or tables ({{ name = \"Host\", len = 64 }}), not {item.Describe()}");
                return null;
        }

        if (name.Length == 0 || !name.All(IsTokenChar))
        {
            table.Error(nameSpot, $"`{key}`: \"{name}\" is not a header name (letters, digits and !#$%&'*+-.^_`|~ only)");
            return null;
        }

        return new CapturedHeader(name, (int)length);
    }

    /// <summary>A tchar of RFC 9110: what a field name is made of.</summary>
    private static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c);
}
