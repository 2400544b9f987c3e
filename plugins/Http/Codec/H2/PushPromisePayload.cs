namespace PluginProxy.Http.Codec.H2;

/// <summary>A PUSH_PROMISE frame's payload once checked (RFC 9113 §6.6).</summary>
/// <param name="PromisedStreamId">The stream the server reserves (reserved bit cleared).</param>
/// <param name="Fragment">Where the field block fragment lies in the payload (padding removed).</param>
internal readonly record struct PushPromisePayload(int PromisedStreamId, Range Fragment);
