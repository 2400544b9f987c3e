namespace PluginProxy.Http.Engine;

/// <summary>What a phase of a stream came to.</summary>
internal enum StepOutcome
{
    /// <summary>Go on with the next phase.</summary>
    Next,

    /// <summary>The stream is over (answered, by the server or the proxy) and the client connection stays open for the next request.</summary>
    KeepAlive,

    /// <summary>The stream is over and the client connection closes.</summary>
    Close,
}

/// <summary>Where a stream is; decides which timeout applies and what its expiry answers.</summary>
internal enum StreamPhase
{
    /// <summary>Between requests (keep-alive), or before the first one.</summary>
    Idle,

    /// <summary>Receiving the request head.</summary>
    RequestHead,

    /// <summary>The request analyzers hold the request channel.</summary>
    AnalyzeRequest,

    /// <summary>Connecting and sending the request.</summary>
    Connecting,

    /// <summary>Waiting for the response head (the request body may still be flowing).</summary>
    ResponseHead,

    /// <summary>The response analyzers hold the response channel.</summary>
    AnalyzeResponse,

    /// <summary>Sending the response to the client.</summary>
    ResponseBody,

    /// <summary>Switched protocols: a tunnel until one side closes.</summary>
    Tunnel,
}

/// <summary>How a body transfer ended.</summary>
internal enum BodyResult
{
    /// <summary>The whole body was forwarded.</summary>
    Complete,

    /// <summary>The sending side closed before the end of the body.</summary>
    SourceClosed,

    /// <summary>Reading from the sending side failed (reset).</summary>
    SourceFailed,

    /// <summary>Writing to the receiving side failed.</summary>
    DestinationFailed,

    /// <summary>The body's framing (chunked coding) is invalid.</summary>
    FramingError,

    /// <summary>The request body grew past max_request_body.</summary>
    TooLarge,

    /// <summary>The transfer was stopped by the proxy (the other direction failed or ended early).</summary>
    Aborted,
}
