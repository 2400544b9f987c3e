namespace PluginProxy.Host.Configuration;

/// <summary>
/// The headers a listener captures into its access-log lines (<c>capture_request_headers</c>,
/// <c>capture_response_headers</c>), as HAProxy's <c>capture request header</c> / <c>capture response header</c>.
/// </summary>
internal sealed record HeaderCapture(IReadOnlyList<CapturedHeader> Request, IReadOnlyList<CapturedHeader> Response)
{
    public static readonly HeaderCapture None = new([], []);

    public bool IsEmpty => Request.Count == 0 && Response.Count == 0;
}
