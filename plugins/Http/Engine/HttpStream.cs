using System.Buffers;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;
using PluginProxy.Http.Codec;
using PluginProxy.Http.Codec.H1;

namespace PluginProxy.Http.Engine;

/// <summary>
/// Everything one HTTP stream (one request and its response) needs, in one typed object: the version-independent
/// message, what the HTTP/1.1 codec knows about its framing, the server connection it runs on, and its log record.
/// A connection holds one only while a stream runs; between requests it goes back to the supervisor's pool, so an idle
/// keep-alive connection holds no stream state.
/// </summary>
internal sealed class HttpStream
{
    private readonly HttpExchange _ownExchange = new();

    /// <summary>The message analyzers, scripts, routing and the log see: the stream state's own, or an HTTP/2 stream's.</summary>
    public HttpExchange Exchange;

    /// <summary>True when an HTTP/2 body from the client goes to the HTTP/1.1 server in chunked coding (its length is unknown).</summary>
    public bool ChunkRequestBody;

    public HttpStream() => Exchange = _ownExchange;

    // The HTTP/1.1 codec's view of both heads: field positions, framing and connection facts.
    public readonly RequestFacts RequestFacts = new();
    public readonly ResponseFacts ResponseFacts = new();

    /// <summary>The request head bytes, copied out of the request channel so they outlive it.</summary>
    public byte[] RequestHead = [];

    /// <summary>The response head bytes.</summary>
    public byte[] ResponseHead = [];

    public HttpParseError BodyError;

    /// <summary>What goes to the server (the request head and the first body bytes) and to the client.</summary>
    public readonly OutputBuffer ServerOut = new();
    public readonly OutputBuffer ClientOut = new();

    /// <summary>The analyzer chains of both channels: which analyzer runs, which bypassed for the rest of the stream.</summary>
    public readonly AnalyzerChain RequestChain = new();
    public readonly AnalyzerChain ResponseChain = new();

    public BodyFramer RequestBody;
    public BodyFramer ResponseBody;

    /// <summary>The response body's filter, when an analyzer installed one (made on first use, kept with this state).</summary>
    public FilteredBody? Filtered;

    /// <summary>The request body's autonomous transfer, while it runs beside the response.</summary>
    public ValueTask<BodyResult> RequestPump;
    public bool Pumping;

    // The way to the server: the backend the analyzers chose, the balancer's one pick, the connection.
    public IBackend? Backend;
    public IServer? Picked;

    /// <summary>The stream's place on <see cref="Picked"/> (a slot when it has a <c>maxconn</c>), released when the stream ends.</summary>
    public ServerLease Slot;
    public ServerConnection? Server;
    public Upstream.PooledConnection? Pooled;
    public bool ServerReused;

    /// <summary>What the balancer looked at (hash key, preferred server), made once at the pick and used again by retries.</summary>
    public ServerSelection Selection;

    /// <summary>The server the request's persistence cookie named, or null (then the response gets a cookie).</summary>
    public IServer? CookieServer;

    /// <summary>The stick-table entries this stream was counted in (the listener's <c>track</c>), for its errors.</summary>
    public List<Abstractions.Tables.IStickEntry>? Tracked;

    /// <summary>True when the server connection may serve another request once this stream is over.</summary>
    public bool ServerReusable;

    /// <summary>Safe to send again on a fresh connection if the server never saw it (RFC 9110 §9.2.2).</summary>
    public bool Replayable;

    /// <summary>True while a retry of this stream counts in its backend's retry budget (until its response head is decided).</summary>
    public bool RetryHeld;

    /// <summary>The servers that failed this stream's request already (retries go elsewhere while there is elsewhere), or null.</summary>
    public List<IServer>? TriedServers;

    /// <summary>The response bytes received when the request went out: none since means the server never answered.</summary>
    public long ResponseByteMark;

    /// <summary>True once the client got the first byte of a response: no error page can follow.</summary>
    public bool ResponseStarted;

    /// <summary>True when the client connection closes after this stream.</summary>
    public bool CloseClient;

    /// <summary>When the request channel started to be held (the first byte of the request), for analyzers' timeouts.</summary>
    public long HoldStart;

    /// <summary>What the access log line says about this stream.</summary>
    public StreamRecord Log;

    /// <param name="tls">True when the client connection is TLS.</param>
    /// <param name="closeClient">True when the client connection is to close after this stream.</param>
    /// <param name="exchange">The message of an HTTP/2 stream (its request head is loaded), or null to use this state's own.</param>
    public void Begin(bool tls, bool closeClient, HttpExchange? exchange = null)
    {
        Exchange = exchange ?? _ownExchange;
        ChunkRequestBody = false;
        RequestFacts.Reset();
        ResponseFacts.Reset();
        Exchange.HasRequest = false;
        Exchange.HasResponse = false;
        Exchange.IsTls = tls;
        BodyError = HttpParseError.None;
        RequestBody = default;
        ResponseBody = default;
        Backend = null;
        Picked = null;
        Slot = default;
        Server = null;
        Pooled = null;
        ServerReused = false;
        Selection = default;
        CookieServer = null;
        Tracked?.Clear();
        ServerReusable = false;
        Replayable = false;
        RetryHeld = false;
        TriedServers?.Clear();
        ResponseByteMark = 0;
        ResponseStarted = false;
        CloseClient = closeClient;
        Pumping = false;
        RequestPump = default;
        HoldStart = Environment.TickCount64;
        Log.Begin();
    }

    /// <summary>The request-target as the client sent it (the access log shows this one).</summary>
    public ReadOnlySpan<byte> ReceivedTarget =>
        Exchange.Request.Version == HttpProtocol.Http2 ? Exchange.Request.RawTarget : RequestHead.AsSpan(RequestFacts.Target);

    /// <summary>True when the request is a HEAD: its response has no body whatever the head says.</summary>
    public bool IsHeadRequest => Exchange.HasRequest && Exchange.Request.RawMethod.SequenceEqual("HEAD"u8);

    /// <summary>Records why the stream ended, unless an earlier cause was recorded.</summary>
    public void Fail(SessionTermination end, string? detail)
    {
        if (Log.End == SessionTermination.Normal)
        {
            Log.End = end;
            Log.Detail = detail;
        }
    }

    /// <summary>
    /// Drops what points outside the stream (backend, server, analyzers, session) when it goes back to the supervisor's
    /// pool, so a pooled state keeps no old configuration, plugin or script version reachable.
    /// </summary>
    public void Detach()
    {
        ReleaseSlot();
        EndBodyFilter();
        Exchange = _ownExchange;
        RequestChain.Clear();
        ResponseChain.Clear();
        Backend = null;
        Picked = null;
        Server = null;
        Pooled = null;
        TriedServers?.Clear();
        RequestPump = default;
        Selection = default;
        CookieServer = null;
        Tracked?.Clear();
    }

    /// <summary>Gives the stream's server slot back (once: the lease is forgotten).</summary>
    public void ReleaseSlot()
    {
        ServerLease slot = Slot;
        Slot = default;
        slot.Release();
    }

    /// <summary>Disposes the response body filter: the one in use, or one an analyzer installed that the body never went through.</summary>
    private void EndBodyFilter()
    {
        Filtered?.End();
        if (Exchange.TakeResponseBodyFilter() is { } unused)
        {
            try
            {
                unused.Dispose();
            }
            catch (Exception)
            {
                // As in FilteredBody.End: the stream is over.
            }
        }
    }

    /// <summary>Gives the head and output buffers back to the pool.</summary>
    public void ReleaseBuffers()
    {
        ServerOut.Release();
        ClientOut.Release();
        if (RequestHead.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(RequestHead);
            RequestHead = [];
        }

        if (ResponseHead.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(ResponseHead);
            ResponseHead = [];
        }
    }
}
