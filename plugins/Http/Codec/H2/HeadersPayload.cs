namespace PluginProxy.Http.Codec.H2;

/// <summary>A HEADERS frame's payload once checked (RFC 9113 §6.2).</summary>
/// <param name="Fragment">Where the field block fragment lies in the payload (padding and priority fields removed).</param>
/// <param name="HasPriority">True when the PRIORITY flag was set and <paramref name="Priority"/> holds its fields.</param>
/// <param name="Priority">The priority fields, when <paramref name="HasPriority"/>.</param>
internal readonly record struct HeadersPayload(Range Fragment, bool HasPriority, PriorityPayload Priority);
