namespace PluginProxy.Http.Codec.H1;

/// <summary>Why a message was refused. Each value has one status (for requests) and one log detail; see <see cref="HttpParseErrors"/>.</summary>
internal enum HttpParseError
{
    /// <summary>No error.</summary>
    None,

    /// <summary>A line ends with LF alone; only CRLF is accepted (a bare LF is read differently by different servers).</summary>
    BareLf,

    /// <summary>A CR not followed by LF.</summary>
    BareCr,

    /// <summary>The request line is not <c>method SP target SP version</c> with single spaces.</summary>
    RequestLineMalformed,

    /// <summary>The method is not a token.</summary>
    MethodInvalid,

    /// <summary>The request-target holds a byte outside visible ASCII, or is not an origin, absolute or asterisk form.</summary>
    TargetInvalid,

    /// <summary>The request-target holds <c>#</c>: a fragment is never sent (RFC 9112 §3.2), and servers disagree on where the path ends.</summary>
    TargetFragment,

    /// <summary>An absolute-form target whose scheme is not http or https.</summary>
    TargetSchemeUnsupported,

    /// <summary>An absolute-form target with userinfo (<c>user@host</c>), which RFC 9110 §4.2.4 asks recipients to treat as an error.</summary>
    TargetUserinfo,

    /// <summary>An absolute-form target whose authority is empty or holds a byte not allowed in an authority.</summary>
    TargetAuthorityInvalid,

    /// <summary>A <c>%</c> in the path not followed by two hexadecimal digits.</summary>
    PathPercentInvalid,

    /// <summary><c>%00</c> in the path.</summary>
    PathEncodedNul,

    /// <summary><c>%2F</c> or <c>%5C</c> in the path: servers disagree on whether an encoded slash separates segments.</summary>
    PathEncodedSeparator,

    /// <summary>A backslash in the path, which some servers read as a slash.</summary>
    PathBackslash,

    /// <summary>A <c>..</c> segment with nothing left to remove: the path climbs above the root.</summary>
    PathAboveRoot,

    /// <summary>A <c>.</c> or <c>..</c> segment with parameters (<c>..;x</c>), which some servers read as a dot-segment.</summary>
    PathDotSegmentParameters,

    /// <summary>The version is not HTTP/1.0 or HTTP/1.1.</summary>
    VersionInvalid,

    /// <summary>A well-formed version of another major version (HTTP/2.0 and up).</summary>
    VersionNotSupported,

    /// <summary>A header line starts with whitespace: obsolete line folding.</summary>
    ObsFold,

    /// <summary>A header line has no colon.</summary>
    HeaderNoColon,

    /// <summary>A header name is empty.</summary>
    HeaderNameEmpty,

    /// <summary>Whitespace between a header name and its colon.</summary>
    HeaderNameWhitespace,

    /// <summary>A header name holds a byte that is not a token character.</summary>
    HeaderNameInvalid,

    /// <summary>A header value holds NUL or another control byte.</summary>
    HeaderValueInvalid,

    /// <summary>More header fields than accepted.</summary>
    TooManyHeaders,

    /// <summary>The head exceeds the read limit.</summary>
    HeadTooLarge,

    /// <summary>The request line alone exceeds the read limit.</summary>
    UriTooLong,

    /// <summary>An HTTP/1.1 request without Host.</summary>
    HostMissing,

    /// <summary>More than one Host header.</summary>
    HostDuplicate,

    /// <summary>A Host value that is not a valid authority.</summary>
    HostInvalid,

    /// <summary>A Content-Length that is empty, signed, not decimal, padded with tabs, or a list element that is not a number.</summary>
    ContentLengthInvalid,

    /// <summary>Several Content-Length values that differ.</summary>
    ContentLengthConflict,

    /// <summary>A Content-Length too large to represent.</summary>
    ContentLengthOverflow,

    /// <summary>Both Content-Length and Transfer-Encoding.</summary>
    ContentLengthWithTransferEncoding,

    /// <summary>A Transfer-Encoding list that is empty, has empty elements, quotes, parameters or tabs.</summary>
    TransferEncodingInvalid,

    /// <summary>chunked applied twice.</summary>
    TransferEncodingChunkedTwice,

    /// <summary>The final transfer coding is not chunked: the length of the body cannot be determined.</summary>
    TransferEncodingNotChunkedLast,

    /// <summary>A transfer coding this proxy does not know.</summary>
    TransferEncodingUnknown,

    /// <summary>Transfer-Encoding in an HTTP/1.0 message.</summary>
    TransferEncodingOnHttp10,

    /// <summary>An Expect value other than 100-continue.</summary>
    ExpectationUnsupported,

    /// <summary>A method a reverse proxy does not forward (CONNECT).</summary>
    MethodNotSupported,

    /// <summary>The declared body is larger than max_request_body.</summary>
    BodyTooLarge,

    /// <summary>A chunk size that is empty or not plain hexadecimal (a sign, 0x, spaces).</summary>
    ChunkSizeInvalid,

    /// <summary>A chunk size too large to represent.</summary>
    ChunkSizeOverflow,

    /// <summary>Chunk data not followed by CRLF.</summary>
    ChunkDataNotTerminated,

    /// <summary>A chunk extension with control bytes, or too long.</summary>
    ChunkExtensionInvalid,

    /// <summary>A malformed trailer section.</summary>
    TrailerInvalid,

    /// <summary>The status line is not <c>HTTP/1.x SP 3DIGIT [SP reason]</c>.</summary>
    StatusLineMalformed,

    /// <summary>The message ended before its framing said it would.</summary>
    Truncated,
}

/// <summary>The status and the log detail of each <see cref="HttpParseError"/>.</summary>
internal static class HttpParseErrors
{
    public static int RequestStatus(HttpParseError error) => error switch
    {
        HttpParseError.VersionNotSupported => 505,
        HttpParseError.TooManyHeaders or HttpParseError.HeadTooLarge => 431,
        HttpParseError.UriTooLong => 414,
        HttpParseError.TransferEncodingUnknown or HttpParseError.MethodNotSupported => 501,
        HttpParseError.ExpectationUnsupported => 417,
        HttpParseError.BodyTooLarge => 413,
        _ => 400,
    };

    public static string Describe(HttpParseError error) => error switch
    {
        HttpParseError.BareLf => "bare LF line ending",
        HttpParseError.BareCr => "bare CR",
        HttpParseError.RequestLineMalformed => "malformed request line",
        HttpParseError.MethodInvalid => "invalid method",
        HttpParseError.TargetInvalid => "invalid request target",
        HttpParseError.TargetFragment => "fragment in request target",
        HttpParseError.TargetSchemeUnsupported => "request target scheme is not http or https",
        HttpParseError.TargetUserinfo => "userinfo in request target",
        HttpParseError.TargetAuthorityInvalid => "invalid authority in request target",
        HttpParseError.PathPercentInvalid => "malformed percent-encoding in path",
        HttpParseError.PathEncodedNul => "encoded NUL in path",
        HttpParseError.PathEncodedSeparator => "encoded slash or backslash in path",
        HttpParseError.PathBackslash => "backslash in path",
        HttpParseError.PathAboveRoot => "path climbs above the root",
        HttpParseError.PathDotSegmentParameters => "dot-segment with parameters in path",
        HttpParseError.VersionInvalid => "invalid HTTP version",
        HttpParseError.VersionNotSupported => "HTTP version not supported",
        HttpParseError.ObsFold => "obsolete line folding",
        HttpParseError.HeaderNoColon => "header line without colon",
        HttpParseError.HeaderNameEmpty => "empty header name",
        HttpParseError.HeaderNameWhitespace => "whitespace before header colon",
        HttpParseError.HeaderNameInvalid => "invalid header name",
        HttpParseError.HeaderValueInvalid => "control byte in header value",
        HttpParseError.TooManyHeaders => "too many headers",
        HttpParseError.HeadTooLarge => "head too large",
        HttpParseError.UriTooLong => "request line too long",
        HttpParseError.HostMissing => "missing Host",
        HttpParseError.HostDuplicate => "duplicate Host",
        HttpParseError.HostInvalid => "invalid Host",
        HttpParseError.ContentLengthInvalid => "invalid Content-Length",
        HttpParseError.ContentLengthConflict => "conflicting Content-Length values",
        HttpParseError.ContentLengthOverflow => "Content-Length overflow",
        HttpParseError.ContentLengthWithTransferEncoding => "Content-Length with Transfer-Encoding",
        HttpParseError.TransferEncodingInvalid => "invalid Transfer-Encoding",
        HttpParseError.TransferEncodingChunkedTwice => "chunked applied twice",
        HttpParseError.TransferEncodingNotChunkedLast => "final transfer coding is not chunked",
        HttpParseError.TransferEncodingUnknown => "unknown transfer coding",
        HttpParseError.TransferEncodingOnHttp10 => "Transfer-Encoding in HTTP/1.0",
        HttpParseError.ExpectationUnsupported => "unsupported expectation",
        HttpParseError.MethodNotSupported => "method not supported",
        HttpParseError.BodyTooLarge => "body larger than max_request_body",
        HttpParseError.ChunkSizeInvalid => "invalid chunk size",
        HttpParseError.ChunkSizeOverflow => "chunk size overflow",
        HttpParseError.ChunkDataNotTerminated => "chunk data not followed by CRLF",
        HttpParseError.ChunkExtensionInvalid => "invalid chunk extension",
        HttpParseError.TrailerInvalid => "invalid trailer",
        HttpParseError.StatusLineMalformed => "malformed status line",
        HttpParseError.Truncated => "truncated message",
        _ => "no error",
    };
}
