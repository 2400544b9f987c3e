namespace PluginProxy.Http.Codec.H2;

/// <summary>The error codes of RFC 9113 §7, sent in RST_STREAM and GOAWAY. Unknown codes received are kept as numbers.</summary>
internal enum Http2ErrorCode : uint
{
    /// <summary>NO_ERROR: not an error (a graceful GOAWAY, for example).</summary>
    NoError = 0x0,

    /// <summary>PROTOCOL_ERROR: an unspecific protocol error.</summary>
    ProtocolError = 0x1,

    /// <summary>INTERNAL_ERROR: the endpoint failed unexpectedly.</summary>
    InternalError = 0x2,

    /// <summary>FLOW_CONTROL_ERROR: the peer broke the flow-control protocol.</summary>
    FlowControlError = 0x3,

    /// <summary>SETTINGS_TIMEOUT: SETTINGS were not acknowledged in time.</summary>
    SettingsTimeout = 0x4,

    /// <summary>STREAM_CLOSED: a frame arrived after the stream was half-closed.</summary>
    StreamClosed = 0x5,

    /// <summary>FRAME_SIZE_ERROR: a frame of an invalid size.</summary>
    FrameSizeError = 0x6,

    /// <summary>REFUSED_STREAM: the stream was refused before any processing; it can be retried.</summary>
    RefusedStream = 0x7,

    /// <summary>CANCEL: the stream is no longer needed.</summary>
    Cancel = 0x8,

    /// <summary>COMPRESSION_ERROR: the field compression context (HPACK) cannot be maintained.</summary>
    CompressionError = 0x9,

    /// <summary>CONNECT_ERROR: the connection of a CONNECT request was reset or closed.</summary>
    ConnectError = 0xa,

    /// <summary>ENHANCE_YOUR_CALM: the peer behaves in a way that may cause excessive load.</summary>
    EnhanceYourCalm = 0xb,

    /// <summary>INADEQUATE_SECURITY: the transport does not meet the minimum security requirements.</summary>
    InadequateSecurity = 0xc,

    /// <summary>HTTP_1_1_REQUIRED: the request must be made over HTTP/1.1.</summary>
    Http11Required = 0xd,
}
