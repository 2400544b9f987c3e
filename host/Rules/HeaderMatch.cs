namespace PluginProxy.Host.Rules;

/// <summary>What a <see cref="HeaderTest"/> asks of a field's value.</summary>
internal enum HeaderMatch
{
    /// <summary>Only <c>name</c>: a field of that name is present.</summary>
    Present,

    /// <summary><c>value</c>: a field has exactly this value.</summary>
    Exact,

    /// <summary><c>prefix</c>: a field's value starts with this.</summary>
    Prefix,

    /// <summary><c>contains</c>: a field's value holds this.</summary>
    Contains,
}
