using PluginProxy.Abstractions.Options;

namespace PluginProxy.Compression;

/// <summary>
/// The keys of a <c>[[listener]]</c> table that the <c>compress</c> analyzer owns, as written (bound by the SDK's
/// <see cref="OptionsBinder"/>; <see cref="CompressionSettings"/> is what the analyzer runs with).
/// </summary>
public sealed class CompressionOptions : IValidatableOptions
{
    /// <summary>The keys, in the order the documentation lists them.</summary>
    public static readonly IReadOnlyList<string> Keys = OptionsBinder.KeysOf<CompressionOptions>();

    /// <summary>
    /// <c>compress_types</c>: the media types compressed (<c>type/subtype</c>, or <c>type/*</c> for all of a type),
    /// compared with the response's <c>Content-Type</c> without its parameters, in any case.
    /// </summary>
    public IReadOnlyList<string> CompressTypes { get; init; } =
        ["text/html", "text/plain", "text/css", "text/javascript", "application/javascript", "application/json", "application/xml", "image/svg+xml"];

    /// <summary><c>compress_min_size</c>: a response that declares a shorter <c>Content-Length</c> is sent as is (one of unknown length is compressed).</summary>
    [Size]
    [OptionRange(0, long.MaxValue)]
    public long CompressMinSize { get; init; } = 1024;

    /// <summary><c>compress_algorithms</c>: the codings offered, most preferred first: <c>"br"</c>, <c>"gzip"</c>.</summary>
    public IReadOnlyList<string> CompressAlgorithms { get; init; } = ["br", "gzip"];

    /// <summary><c>compress_level</c>: <c>"fastest"</c> or <c>"optimal"</c>.</summary>
    public CompressLevel CompressLevel { get; init; } = CompressLevel.Fastest;

    /// <inheritdoc/>
    public IEnumerable<(string Key, string Message)> Validate()
    {
        if (CompressAlgorithms.Count == 0)
        {
            yield return ("compress_algorithms", "`compress_algorithms` must name at least one algorithm: \"br\", \"gzip\"");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < CompressAlgorithms.Count; i++)
        {
            string name = CompressAlgorithms[i];
            if (name is not ("br" or "gzip"))
            {
                yield return ($"compress_algorithms[{i}]", $"unknown compression algorithm \"{name}\"; known algorithms are: \"br\", \"gzip\"");
            }
            else if (!seen.Add(name))
            {
                yield return ($"compress_algorithms[{i}]", $"\"{name}\" is listed twice in `compress_algorithms`");
            }
        }

        for (int i = 0; i < CompressTypes.Count; i++)
        {
            if (!IsMediaRange(CompressTypes[i]))
            {
                yield return ($"compress_types[{i}]",
                    $"\"{CompressTypes[i]}\" is not a media type; write it as \"type/subtype\" (\"text/html\") or \"type/*\" (\"text/*\"), without parameters");
            }
        }
    }

    /// <summary>True for <c>type/subtype</c> or <c>type/*</c>, both tokens.</summary>
    private static bool IsMediaRange(string text)
    {
        int slash = text.IndexOf('/');
        if (slash <= 0 || slash == text.Length - 1)
        {
            return false;
        }

        string type = text[..slash];
        string subtype = text[(slash + 1)..];
        return type != "*" && type.All(PluginProxy.Abstractions.Http.HttpSyntax.IsTokenChar)
            && (subtype == "*" || subtype.All(PluginProxy.Abstractions.Http.HttpSyntax.IsTokenChar));
    }
}
