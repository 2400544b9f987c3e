namespace PluginProxy.Http.Engine.H2;

/// <summary>The states a client-initiated stream goes through on our side (RFC 9113 §5.1; a server never reserves streams).</summary>
internal enum Http2StreamState : byte
{
    /// <summary>Both sides may send.</summary>
    Open,

    /// <summary>The client ended its side (END_STREAM received); we may still send.</summary>
    HalfClosedRemote,

    /// <summary>We ended our side (END_STREAM sent); the client may still send.</summary>
    HalfClosedLocal,

    /// <summary>Both sides ended, or a side reset the stream.</summary>
    Closed,
}
