using System.Text.Json;

namespace PluginProxy.Host.Ctl;

/// <summary>The human output of <c>pluginproxy ctl</c>: the runtime API's JSON as aligned tables and lines.</summary>
internal static class CtlOutput
{
    private static readonly string[] ServerColumns = ["server", "address", "state", "health", "weight", "streams", "conns", "total", "failed"];

    /// <summary>What <c>show</c> prints for the API's answer: listeners, backends, one backend, or one server.</summary>
    public static string Render(string json)
    {
        using JsonDocument document = JsonDocument.Parse(json);
        JsonElement root = document.RootElement;
        if (root.TryGetProperty("listeners", out JsonElement listeners))
        {
            return Table(["listener", "supervisor", "bind", "sessions", "parked", "maxconn", "total", "backend"],
                listeners.EnumerateArray().Select(l => new[]
                {
                    Text(l, "name"), Text(l, "supervisor"), string.Join(",", l.GetProperty("bind").EnumerateArray().Select(b => b.GetString())),
                    Text(l, "sessions"), Text(l, "parked"), Text(l, "maxconn"), Text(l, "total_sessions"), Text(l, "backend"),
                }));
        }

        if (root.TryGetProperty("backends", out JsonElement backends))
        {
            return string.Join("\n\n", backends.EnumerateArray().Select(Backend));
        }

        return root.TryGetProperty("servers", out _) ? Backend(root) : Server(json);
    }

    /// <summary>One server, on one line: <c>app/a 127.0.0.1:9001 state drain, health up, weight 1, 3 stream(s)</c>.</summary>
    public static string Server(string json)
    {
        using JsonDocument document = JsonDocument.Parse(json);
        JsonElement s = document.RootElement;
        return $"{Text(s, "name")} {Text(s, "address")}: state {Text(s, "state")}, health {Text(s, "health")}, weight {Text(s, "weight")}" +
               $" (configured {Text(s, "configured_weight")}), {Text(s, "streams")} stream(s), {Text(s, "connections")} connection(s)";
    }

    /// <summary>The API's error message, or the body as it came.</summary>
    public static string Error(string body)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("error", out JsonElement error))
            {
                return error.GetString() ?? body.Trim();
            }
        }
        catch (JsonException)
        {
            // A text answer (the admin endpoint's own refusals): print it as it is.
        }

        return body.Trim();
    }

    private static string Backend(JsonElement backend)
    {
        string title = $"backend {Text(backend, "name")} ({Text(backend, "balance")}" +
                       (backend.GetProperty("check").ValueKind == JsonValueKind.Null ? ", no check" : $", {Text(backend, "check")} check") +
                       $"): {Text(backend, "servers_usable")} usable, {Text(backend, "streams")} stream(s)";
        return title + "\n" + Table(ServerColumns, backend.GetProperty("servers").EnumerateArray().Select(s => new[]
        {
            Text(s, "name"), Text(s, "address"), Text(s, "state"), Text(s, "health"), Text(s, "weight"),
            Text(s, "streams"), Text(s, "connections"), Text(s, "total_connections"), Text(s, "failed_connections"),
        }));
    }

    private static string Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out JsonElement value) ? value.ValueKind switch
        {
            JsonValueKind.String => value.GetString()!,
            JsonValueKind.Null => "-",
            _ => value.GetRawText(),
        } : "-";

    private static string Table(string[] columns, IEnumerable<string[]> rows)
    {
        List<string[]> all = [columns, .. rows];
        int[] widths = columns.Select((_, i) => all.Max(r => r[i].Length)).ToArray();
        return string.Join('\n', all.Select(row => string.Join("  ", row.Select((cell, i) => cell.PadRight(widths[i]))).TrimEnd()));
    }
}
