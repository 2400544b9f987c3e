namespace PluginProxy.Http.Codec.H2;

/// <summary>A GOAWAY frame's payload once checked (RFC 9113 §6.8).</summary>
/// <param name="LastStreamId">The highest stream the sender may have processed (reserved bit cleared).</param>
/// <param name="ErrorCode">Why the connection closes (an unknown code keeps its number).</param>
/// <param name="DebugData">Where the opaque debug data lies in the payload (often empty).</param>
internal readonly record struct GoAwayPayload(int LastStreamId, Http2ErrorCode ErrorCode, Range DebugData);
