namespace PluginProxy.Http.Codec.H2;

/// <summary>One identifier/value pair of a SETTINGS frame (RFC 9113 §6.5.1).</summary>
/// <param name="Id">The setting (unknown identifiers can be sent too; the receiver ignores them).</param>
/// <param name="Value">The value.</param>
internal readonly record struct Http2Setting(Http2SettingId Id, uint Value);
