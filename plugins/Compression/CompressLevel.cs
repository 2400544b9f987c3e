namespace PluginProxy.Compression;

/// <summary><c>compress_level</c>: how hard the compressors work.</summary>
public enum CompressLevel
{
    /// <summary>Little CPU per byte: gzip (zlib-ng) level 2, Brotli quality 1.</summary>
    Fastest,

    /// <summary>A balance of ratio and CPU for dynamic content: gzip level 6, Brotli quality 4.</summary>
    Optimal,
}
