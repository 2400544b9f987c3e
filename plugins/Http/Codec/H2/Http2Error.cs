namespace PluginProxy.Http.Codec.H2;

/// <summary>
/// The outcome of a frame check: no error, or a stream or connection error with its code (RFC 9113 §5.4) and a short
/// fixed description for the log. <c>default</c> is "no error".
/// </summary>
/// <param name="Scope">Whether the error ends a stream or the connection.</param>
/// <param name="Code">The code to send in RST_STREAM or GOAWAY.</param>
/// <param name="Detail">What was wrong, for the log (a literal: making an error allocates nothing).</param>
internal readonly record struct Http2Error(Http2ErrorScope Scope, Http2ErrorCode Code, string? Detail)
{
    /// <summary>No error.</summary>
    public static Http2Error None => default;

    /// <summary>True for a stream or connection error.</summary>
    public bool IsError => Scope != Http2ErrorScope.None;

    /// <summary>A connection error: GOAWAY with <paramref name="code"/>, then close.</summary>
    public static Http2Error Connection(Http2ErrorCode code, string detail) => new(Http2ErrorScope.Connection, code, detail);

    /// <summary>A stream error: RST_STREAM with <paramref name="code"/>.</summary>
    public static Http2Error Stream(Http2ErrorCode code, string detail) => new(Http2ErrorScope.Stream, code, detail);

    /// <inheritdoc/>
    public override string ToString() => IsError ? $"{Scope} error {Code}: {Detail}" : "no error";
}
