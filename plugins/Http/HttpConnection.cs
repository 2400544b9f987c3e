using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;
using PluginProxy.Http.Forwarding;

namespace PluginProxy.Http;

/// <summary>
/// One client connection of an http listener (the seed notes' "For HTTP"): the request channel is held, with the read
/// limit <c>max_request_head</c>, until the request analyzers (http_lb_req first) release it; then a server connection is
/// taken from the pool or made, the request head goes out, and the body follows in autonomous mode while the response
/// channel is held for the response analyzers (http_lb_resp first). Keep-alive repeats this for each request, in order.
/// </summary>
internal sealed partial class HttpConnection : IExpiring
{
    private readonly HttpSupervisor _owner;
    private readonly ISession _session;
    private readonly Transport _client;
    private readonly ListenerSettings _settings;
    private IFlowAnalyzer[] _requestAnalyzers = [];
    private IFlowAnalyzer[] _responseAnalyzers = [];
    private IReadOnlyList<IFlowAnalyzer>? _requestList;
    private IReadOnlyList<IFlowAnalyzer>? _responseList;
    private readonly ProxyStream _stream;
    private readonly Channel _request;
    private readonly Channel _response;
    private CancellationTokenSource? _cancel;
    private readonly byte[] _clientAddress;
    private readonly int _bodyLimit;

    private HttpStreamState? _state;
    private ServerConnection? _server;
    private Upstream.PooledConnection? _pooled;
    private bool _serverReused;
    private Phase _phase;
    private bool _closeClient;

    // Deadlines as Environment.TickCount64 values, checked by the host's heartbeat.
    private long _clientDeadline = long.MaxValue;
    private long _serverDeadline = long.MaxValue;
    private int _expired;

    private const int ExpiredClient = 1;
    private const int ExpiredServer = 2;
    private const int ExpiredStopping = 3;

    /// <summary>Where the current stream is; decides which timeout applies and what an expiry answers.</summary>
    private enum Phase
    {
        /// <summary>Between requests (keep-alive), or before the first one.</summary>
        Idle,

        /// <summary>Receiving and analyzing the request head.</summary>
        RequestHead,

        /// <summary>Connecting and sending the request.</summary>
        Connecting,

        /// <summary>Waiting for the response head (the request body may still be flowing).</summary>
        ResponseHead,

        /// <summary>Sending the response to the client.</summary>
        ResponseBody,

        /// <summary>Switched protocols: a tunnel until one side closes.</summary>
        Tunnel,
    }

    public HttpConnection(HttpSupervisor owner, ISession session)
    {
        _owner = owner;
        _session = session;
        _client = session.Transport;
        _settings = session.Listener;
        _request = new Channel(ChannelDirection.Request, _settings.MaxRequestHead);
        _response = new Channel(ChannelDirection.Response, _settings.MaxRequestHead);
        _stream = new ProxyStream(session, _request, _response);
        _bodyLimit = Math.Max(_settings.BufferSize, _settings.MaxRequestHead);
        _clientAddress = _owner.OptionsFor(_settings).ForwardFor ? Encoding.ASCII.GetBytes(ClientAddressText(session.Connection.ClientEndPoint)) : [];
    }

    private static string ClientAddressText(EndPoint endPoint) => endPoint switch
    {
        IPEndPoint ip => (ip.Address.IsIPv4MappedToIPv6 ? ip.Address.MapToIPv4() : ip.Address).ToString(),
        _ => endPoint.ToString() ?? "unknown",
    };

    private IBackend? DefaultBackend => _settings.DefaultBackend is { } name ? _session.Backends.Find(name) : null;

    /// <summary>Cancels this connection's pending operations when a timeout of an active stream expires (made at the first request).</summary>
    private CancellationToken Token => (_cancel ??= new CancellationTokenSource()).Token;

    private bool Stopping => _session.Stopping.IsCancellationRequested;

    /// <summary>
    /// The connection's life: wait for a request, run its stream, repeat while keep-alive allows. Everything a request
    /// needs runs in this one async method (allocated once per connection), with synchronous steps in between, so a
    /// request on a reused server connection allocates nothing.
    /// </summary>
    public async ValueTask RunAsync()
    {
        _session.Log.LoggedByStreams = true;
        _owner.Timeouts.Add(this);
        try
        {
            bool first = true;
            while (true)
            {
                if (_request.Length == 0)
                {
                    // Between requests: wait for the first byte of the next one without holding a buffer, so an idle
                    // keep-alive connection costs no memory for data. The host's heartbeat closes the socket if it idles
                    // too long or the proxy stops; that ends this wait.
                    if (!first && Stopping)
                    {
                        break;
                    }

                    _phase = Phase.Idle;
                    SetClientDeadline(first ? _settings.Timeouts.Request : _settings.Timeouts.KeepAlive);
                    try
                    {
                        await _client.WaitForDataAsync().ConfigureAwait(false);
                        int n = await _client.ReceiveAsync(_request.GetAppendBuffer(HeadReadSize)).ConfigureAwait(false);
                        if (n == 0)
                        {
                            break;
                        }

                        _request.Advance(n);
                    }
                    catch (Exception ex) when (ex is SocketException or ObjectDisposedException or IOException)
                    {
                        // Idle timeout, stop, or the client went away between requests: a normal end of a keep-alive connection.
                        break;
                    }
                }

                first = false;
                HttpStreamState state = BeginStream();
                HttpRequestHead request = state.Exchange.Request;
                bool keepAlive = false;
                bool pumping = false;
                ValueTask<BodyResult> requestBody = default;
                try
                {
                    // The request channel is held for the request analyzers (http_lb_req first) until they release it.
                    _phase = Phase.RequestHead;
                    if (_streams > 0)
                    {
                        // The first request's head must arrive within timeout_request of the accept; the next ones, of their first byte.
                        SetClientDeadline(_settings.Timeouts.Request);
                    }

                    AnalyzerVerdict verdict = default;
                    int next = 0;
                    bool read = false;
                    while (true)
                    {
                        if (read)
                        {
                            _serverIo = false;
                            MarkReceived(_request, await _client.ReceiveAsync(_request.GetAppendBuffer(HeadReadSize), Token).ConfigureAwait(false));
                        }

                        read = true;
                        AnalysisStep step = RunAnalyzers(_requestAnalyzers, _request, response: false, ref next, ref verdict);
                        while (step == AnalysisStep.Pending)
                        {
                            try
                            {
                                verdict = await _pendingAnalyzer.ConfigureAwait(false);
                            }
                            catch (Exception ex) when (ex is not OperationCanceledException)
                            {
                                verdict = AnalyzerFailed(_requestAnalyzers[next], ex, response: false);
                                break;
                            }

                            step = Resume(_requestAnalyzers, _request, response: false, ref next, ref verdict);
                        }


                        if (step != AnalysisStep.NeedMore)
                        {
                            break;
                        }

                        if (_request.InputEnded || _request.IsFull)
                        {
                            // An analyzer other than the parser kept asking for more than the client sent or the channel holds.
                            verdict = AnalyzerVerdict.Stop(ErrorReplies.For(_request.IsFull ? 413 : 400));
                            break;
                        }
                    }

                    if (verdict.Action == AnalyzerAction.Stop)
                    {
                        keepAlive = await AnswerRequestStopAsync(state, verdict.Reply!).ConfigureAwait(false);
                        goto StreamDone;
                    }

                    if (PrepareRequest(state, out bool closeAfterError) is int refusal and not 0)
                    {
                        keepAlive = await SendErrorAsync(refusal, closeAfterError).ConfigureAwait(false);
                        goto StreamDone;
                    }

                    // A pooled connection to the server, or a new one; then the head and the first body bytes in one write.
                    _phase = Phase.Connecting;
                    if (!TakePooledServer(state) && !await ConnectAsync(state).ConfigureAwait(false))
                    {
                        goto StreamDone;
                    }

                    _logServer = _server!.Server.Name;
                    _responseByteMark = _response.TotalBytes;
                    SetServerDeadline(_backend!.Timeouts.Server);
                    _serverIo = true;
                    try
                    {
                        await _server.Transport.SendAsync(state.ServerOut.Written, Token).ConfigureAwait(false);
                    }
                    catch (Exception ex) when ((ex is SocketException or IOException) && _serverReused && _replayable)
                    {
                        if (!await ReplayOnFreshConnectionAsync().ConfigureAwait(false))
                        {
                            throw;
                        }
                    }

                    _phase = Phase.ResponseHead;
                    if (!state.RequestBody.IsDone)
                    {
                        // The rest of the body flows on its own while the response is awaited (100-continue, early answers).
                        requestBody = PumpAsync(requestSide: true);
                        pumping = true;
                    }

                    // The response channel is held for the response analyzers (http_lb_resp first); interim 1xx heads pass.
                    while (true)
                    {
                        state.BeginResponse();
                        _response.Flags |= ChannelFlags.Hold;
                        Array.Clear(state.Bypassed);
                        next = 0;
                        read = _response.Length == 0;
                        while (true)
                        {
                            if (read)
                            {
                                int n;
                                bool failed = false;
                                _serverIo = true;
                                try
                                {
                                    n = await _server!.Transport.ReceiveAsync(_response.GetAppendBuffer(HeadReadSize), Token).ConfigureAwait(false);
                                }
                                catch (Exception ex) when ((ex is SocketException or IOException) && CanReplayOnFreshConnection())
                                {
                                    n = 0;
                                    failed = true;
                                }

                                if (n == 0 && CanReplayOnFreshConnection() && await ReplayOnFreshConnectionAsync().ConfigureAwait(false))
                                {
                                    // The server had closed the pooled connection as we reused it; the request went again on a new one.
                                    continue;
                                }

                                if (failed)
                                {
                                    throw new SocketException((int)SocketError.ConnectionReset);
                                }

                                MarkReceived(_response, n);
                            }

                            read = true;
                            AnalysisStep step = RunAnalyzers(_responseAnalyzers, _response, response: true, ref next, ref verdict);
                            while (step == AnalysisStep.Pending)
                            {
                                try
                                {
                                    verdict = await _pendingAnalyzer.ConfigureAwait(false);
                                }
                                catch (Exception ex) when (ex is not OperationCanceledException)
                                {
                                    verdict = AnalyzerFailed(_responseAnalyzers[next], ex, response: true);
                                    break;
                                }

                                step = Resume(_responseAnalyzers, _response, response: true, ref next, ref verdict);
                            }


                            if (step != AnalysisStep.NeedMore)
                            {
                                break;
                            }

                            if (_response.InputEnded || _response.IsFull)
                            {
                                verdict = AnalyzerVerdict.Stop(ErrorReplies.For(502));
                                break;
                            }
                        }

                        if (verdict.Action == AnalyzerAction.Stop)
                        {
                            keepAlive = await AnswerResponseStopAsync(state, verdict.Reply!).ConfigureAwait(false);
                            goto StreamDone;
                        }

                        int status = state.ResponseFacts.Status;
                        if (status >= 200)
                        {
                            break;
                        }

                        _response.Consume(state.ResponseFacts.HeadLength);
                        if (status == 101)
                        {
                            if (request.IsUpgrade)
                            {
                                await TunnelAsync(state).ConfigureAwait(false);
                            }
                            else
                            {
                                _end = SessionTermination.BadResponse;
                                _detail = "101 Switching Protocols without an upgrade request";
                                await SendErrorAsync(502, close: true).ConfigureAwait(false);
                            }

                            goto StreamDone;
                        }

                        if (request.Version == HttpProtocol.Http11)
                        {
                            // 100 Continue, 103 Early Hints: passed on to HTTP/1.1 clients (HTTP/1.0 ones do not know them).
                            PrepareInterim(state);
                            SetClientDeadline(_settings.Timeouts.Client);
                            _serverIo = false;
                            await _client.SendAsync(state.ClientOut.Written, Token).ConfigureAwait(false);
                            _bytesOut += state.ClientOut.Length;
                        }

                        _responseByteMark = _response.TotalBytes;
                    }

                    // The head and the body bytes already here go in one write; the rest of the body flows autonomously.
                    if (PrepareResponse(state) is var framing and not Parsing.HttpParseError.None)
                    {
                        _end = SessionTermination.BadResponse;
                        _detail = Parsing.HttpParseErrors.Describe(framing);
                        await SendErrorAsync(502, close: true).ConfigureAwait(false);
                        goto StreamDone;
                    }

                    SetClientDeadline(_settings.Timeouts.Client);
                    _serverIo = false;
                    await _client.SendAsync(state.ClientOut.Written, Token).ConfigureAwait(false);
                    _bytesOut += state.ClientOut.Length;
                    _response.ReadLimit = _bodyLimit;
                    while (!state.ResponseBody.IsDone)
                    {
                        if (_response.Length == 0)
                        {
                            SetServerDeadline(_backend!.Timeouts.Server);
                            _serverIo = true;
                            int n = await _server!.Transport.ReceiveAsync(_response.GetAppendBuffer(_bodyLimit), Token).ConfigureAwait(false);
                            if (n == 0)
                            {
                                if (!state.ResponseBody.EndOfInput())
                                {
                                    RecordBodyFailure(BodyResult.SourceClosed, requestSide: false);
                                    goto StreamDone;
                                }

                                break;
                            }

                            _response.Advance(n);
                        }

                        ReadOnlyMemory<byte> data = _response.Data;
                        Parsing.HttpParseError error = state.ResponseBody.Next(data.Span, out int consumed, out Range forward);
                        if (error != Parsing.HttpParseError.None)
                        {
                            _bodyError = error;
                            RecordBodyFailure(BodyResult.FramingError, requestSide: false);
                            goto StreamDone;
                        }

                        (int offset, int length) = forward.GetOffsetAndLength(data.Length);
                        if (length > 0)
                        {
                            SetClientDeadline(_settings.Timeouts.Client);
                            _serverIo = false;
                            await _client.SendAsync(data.Slice(offset, length), Token).ConfigureAwait(false);
                            _bytesOut += length;
                        }

                        _response.Consume(consumed);
                    }

                    bool serverReusable = state.ResponseBody.Kind != BodyKind.UntilClose && !state.Exchange.Response.WantsClose;
                    keepAlive = true;
                    if (pumping)
                    {
                        if (!requestBody.IsCompleted)
                        {
                            // The server answered before reading the whole request body: stop forwarding it; close both sides.
                            _closeClient = true;
                            serverReusable = false;
                            AbortRequestBody();
                        }

                        pumping = false;
                        BodyResult body = await ObserveAsync(requestBody).ConfigureAwait(false);
                        if (body != BodyResult.Complete)
                        {
                            keepAlive = false;
                            serverReusable = false;
                            RecordBodyFailure(body, requestSide: true);
                        }
                    }

                    if (serverReusable && _server is not null && _response.Length == 0)
                    {
                        _owner.Pool.Return(_server, _pooled);
                        _server = null;
                        _pooled = null;
                    }

                    keepAlive &= !_closeClient;
                }
                catch (OperationCanceledException) when (Volatile.Read(ref _expired) != 0)
                {
                    keepAlive = false;
                    await AnswerTimeoutAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException or IOException)
                {
                    keepAlive = false;
                    if (_end == SessionTermination.Normal)
                    {
                        _end = _serverIo ? SessionTermination.ServerAborted : SessionTermination.ClientAborted;
                        _detail = TcpRelay.Describe(ex);
                    }

                    if (_end == SessionTermination.ServerAborted && !_responseStarted)
                    {
                        await SendErrorAsync(502, close: true).ConfigureAwait(false);
                    }
                }
                catch (Exception ex)
                {
                    // A bug in this supervisor or in an analyzer's object: this stream ends with a 500, nothing else does.
                    keepAlive = false;
                    Log.LogError(ex, "Session {Session}: the http supervisor failed", _session.Id);
                    _end = SessionTermination.InternalError;
                    _detail = $"{ex.GetType().Name}: {ex.Message}";
                    if (!_responseStarted)
                    {
                        await SendErrorAsync(500, close: true).ConfigureAwait(false);
                    }
                }

            StreamDone:
                if (pumping)
                {
                    AbortRequestBody();
                    await ObserveAsync(requestBody).ConfigureAwait(false);
                }

                EndStream(state, keepAlive);
                if (!keepAlive)
                {
                    break;
                }
            }
        }
        finally
        {
            _owner.Timeouts.Remove(this);
            CloseServer();
            ReleaseStreamState();
            _request.Release();
            _response.Release();
            _cancel?.Dispose();
        }
    }

    /// <summary>Which side the pending operation of the stream is on, to name the side that failed.</summary>
    private bool _serverIo;

    /// <summary>What a head read rents at first: most heads are far smaller than the read limit; the channel grows if needed.</summary>
    private const int HeadReadSize = 4096;

    private static bool IsConnectionEnd(Exception ex) => ex is SocketException or ObjectDisposedException or OperationCanceledException or IOException;

    private void SetClientDeadline(TimeSpan? timeout) =>
        Volatile.Write(ref _clientDeadline, timeout is { } t ? Environment.TickCount64 + (long)t.TotalMilliseconds : long.MaxValue);

    private void SetServerDeadline(TimeSpan? timeout) =>
        Volatile.Write(ref _serverDeadline, timeout is { } t ? Environment.TickCount64 + (long)t.TotalMilliseconds : long.MaxValue);

    private void ClearDeadlines()
    {
        Volatile.Write(ref _clientDeadline, long.MaxValue);
        Volatile.Write(ref _serverDeadline, long.MaxValue);
    }

    public bool IsExpired(long now) =>
        now >= Volatile.Read(ref _clientDeadline) || now >= Volatile.Read(ref _serverDeadline) || (_phase == Phase.Idle && Stopping);

    public void Expire(long now)
    {
        if (_phase == Phase.Idle)
        {
            // An idle keep-alive connection (or one that never sent a byte) is closed without an answer.
            if ((now >= Volatile.Read(ref _clientDeadline) || Stopping) && Interlocked.CompareExchange(ref _expired, ExpiredStopping, 0) == 0)
            {
                _client.Dispose();
            }

            return;
        }

        int side = now >= Volatile.Read(ref _clientDeadline) ? ExpiredClient : now >= Volatile.Read(ref _serverDeadline) ? ExpiredServer : 0;
        if (side != 0 && Interlocked.CompareExchange(ref _expired, side, 0) == 0)
        {
            // Cancels every pending read and write of this connection; the stream answers (408, 504) or closes.
            _ = _cancel?.CancelAsync();
        }
    }

    private HttpStreamState AcquireStreamState()
    {
        if (_state is null)
        {
            _state = _owner.RentState();
            _state.Routes = _owner.RoutesFor(_settings);
            _state.MaxRequestBody = _owner.OptionsFor(_settings).MaxRequestBody ?? -1;
            _state.Exchange.IsTls = _session.Tls is not null;
            _stream.SupervisorState = _state;
            _stream.Http = _state.Exchange;
        }

        return _state;
    }

    /// <summary>An idle connection keeps no stream state: it goes back to the supervisor's pool.</summary>
    private void ReleaseStreamState()
    {
        if (_state is not null)
        {
            _stream.SupervisorState = null;
            _stream.Http = null;
            _owner.ReturnState(_state);
            _state = null;
        }
    }

    private void CloseServer()
    {
        if (_pooled is not null)
        {
            _pooled.Close();
        }
        else
        {
            _server?.Dispose();
        }

        _server = null;
        _pooled = null;
    }

    private long Elapsed(long since) => since == 0 ? -1 : (long)Stopwatch.GetElapsedTime(since).TotalMilliseconds;

    private ILogger Log => _owner.Logger;
}
