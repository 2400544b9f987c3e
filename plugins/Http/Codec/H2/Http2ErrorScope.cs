namespace PluginProxy.Http.Codec.H2;

/// <summary>What an error ends (RFC 9113 §5.4).</summary>
internal enum Http2ErrorScope : byte
{
    /// <summary>No error.</summary>
    None,

    /// <summary>A stream error (§5.4.2): answer RST_STREAM on that stream; the connection goes on.</summary>
    Stream,

    /// <summary>A connection error (§5.4.1): send GOAWAY with the code and close the connection.</summary>
    Connection,
}
