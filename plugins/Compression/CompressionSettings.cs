using PluginProxy.Abstractions.Http;

namespace PluginProxy.Compression;

/// <summary>A listener's <see cref="CompressionOptions"/>, ready for each response: codings parsed, types in lowercase.</summary>
internal sealed class CompressionSettings
{
    private readonly HashSet<string> _types;
    private readonly string[] _typePrefixes;

    public CompressionSettings(CompressionOptions options)
    {
        Algorithms = options.CompressAlgorithms.Select(AcceptEncoding.Coding).Where(c => c != ContentCoding.Identity).Distinct().ToArray();
        MinSize = options.CompressMinSize;
        Level = options.CompressLevel;
        string[] types = options.CompressTypes.Select(t => t.ToLowerInvariant()).ToArray();
        _types = types.Where(t => !t.EndsWith("/*", StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
        _typePrefixes = types.Where(t => t.EndsWith("/*", StringComparison.Ordinal)).Select(t => t[..^1]).ToArray();
    }

    /// <summary>The codings offered, most preferred first.</summary>
    public IReadOnlyList<ContentCoding> Algorithms { get; }

    /// <summary>The least declared length compressed.</summary>
    public long MinSize { get; }

    /// <summary>How hard the compressors work.</summary>
    public CompressLevel Level { get; }

    /// <summary>True when <paramref name="contentType"/> (a <c>Content-Type</c> value, parameters allowed) is one of the types compressed.</summary>
    public bool Compresses(string contentType)
    {
        int semicolon = contentType.IndexOf(';');
        string media = (semicolon < 0 ? contentType : contentType[..semicolon]).Trim().ToLowerInvariant();
        if (_types.Contains(media))
        {
            return true;
        }

        foreach (string prefix in _typePrefixes)
        {
            if (media.StartsWith(prefix, StringComparison.Ordinal) && media.Length > prefix.Length)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// A new compressor of <paramref name="coding"/> at this listener's level. "fastest" is zlib level 2, not 1: the zlib
    /// that .NET carries (zlib-ng) uses a quicker strategy at level 1 whose output is about half again as large for little
    /// less CPU (docs/performance.md, "Compression").
    /// </summary>
    public IResponseBodyFilter CreateFilter(ContentCoding coding) => coding switch
    {
        ContentCoding.Brotli => new BrotliBodyFilter(Level == CompressLevel.Fastest ? 1 : 4),
        _ => new GzipBodyFilter(Level == CompressLevel.Fastest ? 2 : 6),
    };
}
