namespace PluginProxy.Http.Codec.H2;

/// <summary>
/// The priority fields of a PRIORITY frame or a HEADERS frame with the PRIORITY flag (RFC 9113 §5.3.2, §6.3). RFC 9113
/// deprecates this scheme: the fields are checked and reported, and a proxy is free to ignore them.
/// </summary>
/// <param name="StreamDependency">The stream this one depends on (reserved/exclusive bit cleared).</param>
/// <param name="Exclusive">The E flag.</param>
/// <param name="Weight">The weight byte as sent (the weight is this plus one).</param>
internal readonly record struct PriorityPayload(int StreamDependency, bool Exclusive, byte Weight);
