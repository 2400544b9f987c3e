namespace PluginProxy.Abstractions.Options;

/// <summary>The key a property binds from, when it is not the property's name in snake_case (<c>MaxRequestBody</c> → <c>max_request_body</c>).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OptionKeyAttribute(string key) : Attribute
{
    /// <summary>The key as written in proxy.toml.</summary>
    public string Key { get; } = key;
}

/// <summary>An <see cref="int"/> or <see cref="long"/> property that holds a size: bytes, or a string such as <c>"16k"</c>, <c>"1m"</c>.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class SizeAttribute : Attribute;

/// <summary>The smallest and largest value an integer or size property accepts (both included).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OptionRangeAttribute(long min, long max) : Attribute
{
    /// <summary>The smallest value accepted.</summary>
    public long Min { get; } = min;

    /// <summary>The largest value accepted.</summary>
    public long Max { get; } = max;
}

/// <summary>A key that must be written; its absence is an error at the table.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class RequiredOptionAttribute : Attribute;

/// <summary>
/// Implemented by an options class whose values depend on each other or need a rule the types cannot say; called once
/// its keys are bound (and only when they bound without error).
/// </summary>
public interface IValidatableOptions
{
    /// <summary>
    /// Each problem, with the key (of this table) it is reported at: its value's place, or with <c>key[i]</c> the place of
    /// item <c>i</c> of a list (<c>method[1]</c>).
    /// </summary>
    IEnumerable<(string Key, string Message)> Validate();
}
