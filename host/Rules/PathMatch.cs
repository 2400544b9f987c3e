namespace PluginProxy.Host.Rules;

/// <summary>How a <see cref="PathTest"/> compares the path with its patterns.</summary>
internal enum PathMatch
{
    /// <summary><c>path</c>: the whole path.</summary>
    Exact,

    /// <summary><c>path_prefix</c>: the start of the path.</summary>
    Prefix,

    /// <summary><c>path_suffix</c>: the end of the path (<c>.php</c>).</summary>
    Suffix,
}
