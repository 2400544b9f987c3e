using System.Text.Json;
using PluginProxy.Abstractions;
using PluginProxy.Host.Backends;

namespace PluginProxy.Host.Admin;

/// <summary>What a PATCH of a server asks: an admin state, a weight, or both.</summary>
internal sealed record ServerChange(ServerAdminState? State, int? Weight)
{
    /// <summary>Reads <c>{"state": "drain", "weight": 3}</c>; null (with the problem) when the body is not that.</summary>
    public static ServerChange? Parse(ReadOnlyMemory<byte> body, out string? problem)
    {
        if (RuntimeJson.Object(body, ["state", "weight"], out problem) is not { } fields)
        {
            return null;
        }

        ServerAdminState? state = null;
        int? weight = null;
        if (fields.TryGetValue("state", out JsonElement stateValue) && (state = RuntimeJson.State(stateValue, out problem)) is null)
        {
            return null;
        }

        if (fields.TryGetValue("weight", out JsonElement weightValue) && (weight = RuntimeJson.Weight(weightValue, minimum: 0, out problem)) is null)
        {
            return null;
        }

        if (state is null && weight is null)
        {
            problem = "say what to change: {\"state\": \"ready\" | \"drain\" | \"maint\"} and/or {\"weight\": 0-256}";
            return null;
        }

        return new ServerChange(state, weight);
    }
}

/// <summary>A server to add at run time: <c>{"name": "c", "address": "127.0.0.1:9003", "weight": 1, "state": "maint", "proto": "h1"}</c>.</summary>
internal sealed record NewServer(string Name, string Address, System.Net.IPEndPoint EndPoint, int Weight, ServerAdminState State, ServerProtocol Protocol)
{
    /// <summary>Reads the body; null (with the problem) when it is not a usable server.</summary>
    public static NewServer? Parse(ReadOnlyMemory<byte> body, out string? problem)
    {
        if (RuntimeJson.Object(body, ["name", "address", "weight", "state", "proto"], out problem) is not { } fields)
        {
            return null;
        }

        if (!fields.TryGetValue("name", out JsonElement nameValue) || nameValue.ValueKind != JsonValueKind.String || nameValue.GetString() is not { Length: > 0 } name || name.Contains('/'))
        {
            problem = "\"name\" must be the server's name, a non-empty string without '/'";
            return null;
        }

        if (!fields.TryGetValue("address", out JsonElement addressValue) || addressValue.ValueKind != JsonValueKind.String)
        {
            problem = "\"address\" must be the server's address as a string, such as \"127.0.0.1:9003\" or \"[::1]:9003\"";
            return null;
        }

        string address = addressValue.GetString()!;
        if (!Configuration.EndPoints.TryParse(address, forBind: false, out System.Net.IPEndPoint? endPoint, out string? addressProblem))
        {
            problem = $"\"address\": {addressProblem}";
            return null;
        }

        int weight = 1;
        if (fields.TryGetValue("weight", out JsonElement weightValue))
        {
            if (RuntimeJson.Weight(weightValue, minimum: 1, out problem) is not { } given)
            {
                return null;
            }

            weight = given;
        }

        // As HAProxy's "add server": a new server starts in maintenance unless asked otherwise, so that it takes traffic
        // only once the operator says it may.
        ServerAdminState state = ServerAdminState.Maint;
        if (fields.TryGetValue("state", out JsonElement stateValue))
        {
            if (RuntimeJson.State(stateValue, out problem) is not { } asked)
            {
                return null;
            }

            state = asked;
        }

        ServerProtocol protocol = ServerProtocol.Http1;
        if (fields.TryGetValue("proto", out JsonElement protoValue))
        {
            switch (protoValue.ValueKind == JsonValueKind.String ? protoValue.GetString() : null)
            {
                case "h1":
                    break;
                case "h2":
                    protocol = ServerProtocol.Http2;
                    break;
                default:
                    problem = "\"proto\" must be \"h1\" or \"h2\"";
                    return null;
            }
        }

        problem = null;
        return new NewServer(name, address, endPoint!, weight, state, protocol);
    }
}

/// <summary>Strict reading of the runtime API's small JSON bodies: an object, known keys only, typed values.</summary>
internal static class RuntimeJson
{
    public static Dictionary<string, JsonElement>? Object(ReadOnlyMemory<byte> body, string[] known, out string? problem)
    {
        problem = null;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            problem = body.IsEmpty ? "the body is empty: send a JSON object" : $"the body is not JSON: {ex.Message}";
            return null;
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                problem = "the body must be a JSON object";
                return null;
            }

            var fields = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (JsonProperty property in document.RootElement.EnumerateObject())
            {
                if (!known.Contains(property.Name))
                {
                    problem = $"unknown key \"{property.Name}\"; the keys are: {string.Join(", ", known.Select(k => $"\"{k}\""))}";
                    return null;
                }

                fields[property.Name] = property.Value.Clone();
            }

            return fields;
        }
    }

    public static ServerAdminState? State(JsonElement value, out string? problem)
    {
        problem = null;
        if (value.ValueKind == JsonValueKind.String && ServerAdminStates.TryParse(value.GetString(), out ServerAdminState state))
        {
            return state;
        }

        problem = $"\"state\" must be \"ready\", \"drain\" or \"maint\", not {value.GetRawText()}";
        return null;
    }

    public static int? Weight(JsonElement value, int minimum, out string? problem)
    {
        problem = null;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int weight) && weight >= minimum && weight <= Server.MaxWeight)
        {
            return weight;
        }

        problem = $"\"weight\" must be an integer from {minimum} to {Server.MaxWeight}, not {value.GetRawText()}";
        return null;
    }
}
