using PluginProxy.Abstractions.Options;

namespace PluginProxy.Http.Routing;

/// <summary>A route's <c>header = { name, value }</c>: a header the request must have, and maybe its exact value.</summary>
public sealed class HttpRouteHeader : IValidatableOptions
{
    /// <summary><c>name</c>: the header's name, case-insensitive. Required.</summary>
    public string? Name { get; init; }

    /// <summary><c>value</c>: the value the header must have, exactly; null: its presence is enough.</summary>
    public string? Value { get; init; }

    /// <inheritdoc/>
    public IEnumerable<(string Key, string Message)> Validate()
    {
        if (Name is null)
        {
            yield return ("name", "a route's `header` needs `name` (a header name)");
        }
        else if (Name.Length == 0)
        {
            yield return ("name", "`name` must not be empty");
        }
    }
}
