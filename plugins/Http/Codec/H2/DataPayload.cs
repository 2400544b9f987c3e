namespace PluginProxy.Http.Codec.H2;

/// <summary>A DATA frame's payload once checked (RFC 9113 §6.1).</summary>
/// <param name="Data">Where the data lies in the payload (padding removed).</param>
/// <param name="PadLength">The padding bytes after the data (0 without PADDED). The whole frame length counts toward flow control.</param>
internal readonly record struct DataPayload(Range Data, int PadLength);
