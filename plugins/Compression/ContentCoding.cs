namespace PluginProxy.Compression;

/// <summary>A content coding the <c>compress</c> analyzer produces, named in <c>compress_algorithms</c> as in <c>Content-Encoding</c>.</summary>
internal enum ContentCoding
{
    /// <summary>No coding: the body goes as the server sent it.</summary>
    Identity,

    /// <summary><c>gzip</c> (RFC 1952).</summary>
    Gzip,

    /// <summary><c>br</c>, Brotli (RFC 7932).</summary>
    Brotli,
}
