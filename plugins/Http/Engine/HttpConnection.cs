using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;
using PluginProxy.Http.Engine.H2;

namespace PluginProxy.Http.Engine;

/// <summary>
/// One client connection of an http listener. Its life is a loop over streams, and each stream is a short sequence of
/// named phases (<see cref="RunAsync"/>): read the request head, analyze the request, choose a server, connect,
/// forward the request, read the response head, analyze the response, forward the body, log. Each phase returns a
/// <see cref="StepOutcome"/>; the stream's state lives in one <see cref="HttpStream"/>, the connection keeps only what
/// outlives a stream (the client, its two channels, the analyzer chains, the deadlines).
/// </summary>
/// <remarks>
/// The phases are async methods that complete synchronously whenever the data is already there (most of them, most of the
/// time), so they allocate nothing then; the one that waits for the server allocates its state machine once per request.
/// They do not use pooled async builders: those keep boxes of this plugin's types in the runtime's static caches, which
/// crashed the garbage collector once a plugin version was unloaded (measured: 4 crashes in 4 full test runs).
/// </remarks>
internal sealed partial class HttpConnection
{
    /// <summary>What a head read rents at first: most heads are far smaller than the read limit; the channel grows if needed.</summary>
    private const int HeadReadSize = 4096;

    /// <summary>The largest output buffer a stream state keeps between streams (larger ones go back to the shared pool).</summary>
    private const int KeptOutput = 4096;

    private readonly HttpSupervisor _owner;
    private readonly ISession _session;
    private readonly Transport _client;
    private readonly ListenerSettings _settings;
    private readonly HttpListenerOptions _options;
    private readonly Channel _request;
    private readonly Channel _response;
    private readonly ProxyStream _proxyStream;
    private readonly ConnectionDeadlines _deadlines;
    private readonly byte[] _clientAddress;
    private readonly int _bodyLimit;
    private IReadOnlyList<IFlowAnalyzer>? _requestList;
    private IReadOnlyList<IFlowAnalyzer>? _responseList;
    private IFlowAnalyzer[] _requestAnalyzers = [];
    private IFlowAnalyzer[] _responseAnalyzers = [];
    private Http2ServerStream? _h2;
    private IStreamAnalyzers? _lease;
    private HttpStream? _stream;
    private string? _clientText;
    private int _streams;

    /// <summary>Which side the pending operation of the stream is on, to name the side that failed.</summary>
    private bool _serverIo;

    public HttpConnection(HttpSupervisor owner, ISession session)
        : this(owner, session, null)
    {
        session.Attach(_proxyStream);
    }

    /// <param name="owner">The supervisor.</param>
    /// <param name="session">The client connection.</param>
    /// <param name="h2">The HTTP/2 stream this object runs first (then others of that connection, one at a time), or null for an HTTP/1.x connection.</param>
    private HttpConnection(HttpSupervisor owner, ISession session, Http2ServerStream? h2)
    {
        _h2 = h2;
        _owner = owner;
        _session = session;
        _client = session.Transport;
        _settings = session.Listener;
        _options = owner.OptionsFor(_settings);
        _request = new Channel(ChannelDirection.Request, _settings.MaxRequestHead);
        _response = new Channel(ChannelDirection.Response, _settings.MaxRequestHead);
        _proxyStream = new ProxyStream(session, _request, _response);
        _deadlines = new ConnectionDeadlines(_client, session.Stopping) { Parker = h2 is null && _client is SocketTransport or TlsTransport { CanPark: true } ? this : null };
        _bodyLimit = Math.Max(_settings.BufferSize, _settings.MaxRequestHead);
        _clientAddress = _options.ForwardFor ? Encoding.ASCII.GetBytes(ClientAddressText(session.Connection.ClientEndPoint)) : [];
    }

    private CancellationToken Token => _deadlines.Token;

    private bool Stopping => _session.Stopping.IsCancellationRequested;

    private ILogger Log => _owner.Logger;

    /// <summary>
    /// The connection's life: wait for a request, run its stream through the phases, log it, repeat while keep-alive
    /// allows. This one async method lives as long as the connection, and the waits between requests and between phases
    /// happen in it, so an idle connection holds nothing but its state machine.
    /// </summary>
    public async ValueTask RunAsync()
    {
        _session.Log.LoggedByStreams = true;
        _owner.Timeouts.Add(_deadlines);
        try
        {
            while (true)
            {
                if (_request.Length == 0)
                {
                    // Between requests: wait for the first byte of the next one without holding a buffer. The heartbeat
                    // closes the socket if it idles too long or the proxy stops; that ends this wait.
                    if (!BeginIdle())
                    {
                        break;
                    }

                    try
                    {
                        int read = -1; // what the end of the wait read, if it read
                        if (_client is SocketTransport plain)
                        {
                            // The socket's zero-byte read awaited as is: an idle connection then keeps no conversion state
                            // machine (120 B). Parkable only once the read waits in the runtime's epoll set: closing the
                            // socket while a receive call holds it would make the runtime disconnect the socket, the parked
                            // duplicate with it. A wait that ended later is read at once without waiting: the runtime ends
                            // a zero-byte wait at any readiness event, a stale one too, and with nothing to read the wait
                            // starts again rather than hold a buffer in a read that waits (the connection could not park).
                            bool parked = false;
                            while (true)
                            {
                                ValueTask<int> waiting = plain.Socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None);
                                bool atOnce = waiting.IsCompleted;
                                if (!atOnce)
                                {
                                    MayPark();
                                }

                                await waiting.ConfigureAwait(false);
                                if (!LeaveIdle())
                                {
                                    parked = true;
                                    break;
                                }

                                if (atOnce)
                                {
                                    break;
                                }

                                read = plain.ReceiveNow(_request.GetAppendBuffer(HeadReadSize).Span);
                                if (read >= 0)
                                {
                                    break;
                                }

                                _request.Release();
                            }

                            if (parked)
                            {
                                break; // parked: the host has the connection now
                            }
                        }
                        else
                        {
                            MayPark();
                            await _client.WaitForDataAsync().ConfigureAwait(false);
                            if (!LeaveIdle())
                            {
                                break; // parked: the host has the connection now
                            }
                        }

                        int n = read >= 0 ? read : await _client.ReceiveAsync(_request.GetAppendBuffer(HeadReadSize)).ConfigureAwait(false);
                        if (n == 0)
                        {
                            break;
                        }

                        _request.Advance(n);
                        if (_streams == 0 && _h2 is null && await ReadHttp2PrefaceAsync().ConfigureAwait(false))
                        {
                            // Prior knowledge (h2c): the connection speaks HTTP/2 from its first byte.
                            _deadlines.Clear();
                            _owner.Timeouts.Remove(_deadlines);

                            // The bytes read so far go to the HTTP/2 connection; this connection's buffer goes back to the pool
                            // now, not when the HTTP/2 connection ends.
                            byte[] initial = _request.Data.ToArray();
                            _request.Release();
                            await Http2Session.RunAsync(_owner, _session, initial).ConfigureAwait(false);
                            break;
                        }
                    }
                    catch (Exception ex) when (ex is SocketException or ObjectDisposedException or IOException)
                    {
                        // Idle timeout, stop, the client went away between requests, or the connection was parked: a normal end.
                        break;
                    }
                }

                HttpStream stream = BeginStream();
                StepOutcome outcome = await RunStreamPhasesAsync(stream).ConfigureAwait(false);
                EndStream(stream, outcome);
                if (outcome != StepOutcome.KeepAlive)
                {
                    break;
                }
            }
        }
        finally
        {
            lock (_deadlines)
            {
                _idle = IdleDone;
            }

            _owner.Timeouts.Remove(_deadlines);
            ReleaseStream();
            _request.Release();
            _response.Release();
            _deadlines.Dispose();
        }
    }

    /// <summary>
    /// One stream's phases, from its request head to the end of its response, whatever the client's HTTP version. An
    /// HTTP/2 stream also ends here (<see cref="FinishHttp2Stream"/>); an HTTP/1.x one ends in <see cref="RunAsync"/>.
    /// </summary>
    /// <remarks>
    /// One method on purpose: its state machine is the only one a stream allocates when it waits (for the server, most
    /// of the time), since the phases it awaits complete at once unless they wait themselves.
    /// </remarks>
    private async ValueTask<StepOutcome> RunStreamPhasesAsync(HttpStream stream)
    {
        StepOutcome outcome;
        Exception? broken = null;
        try
        {
            try
            {
                outcome = _h2 is null
                    ? await ReadRequestHeadAsync(stream).ConfigureAwait(false)
                    : await LoadHttp2RequestAsync(stream).ConfigureAwait(false);
                outcome = outcome != StepOutcome.Next ? outcome : await AnalyzeRequestAsync(stream).ConfigureAwait(false);
                outcome = outcome != StepOutcome.Next ? outcome : await ChooseServerAsync(stream).ConfigureAwait(false);
                outcome = outcome != StepOutcome.Next ? outcome : await ConnectAsync(stream).ConfigureAwait(false);
                outcome = outcome != StepOutcome.Next ? outcome : await ForwardRequestAsync(stream).ConfigureAwait(false);

                if (outcome == StepOutcome.Next)
                {
                    // The wait for the answer happens here rather than in the read phase: that phase then completes at
                    // once, without a state machine of its own (one allocation and one continuation less per response).
                    bool answerArrived = false;
                    if (_response.Length == 0 && stream.Server?.Transport is SocketTransport plain)
                    {
                        _serverIo = true;
                        try
                        {
                            await plain.Socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, Token).ConfigureAwait(false);
                            answerArrived = true;
                        }
                        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException or IOException)
                        {
                            // Left for the read phase, which meets it again and answers it (replay on a fresh connection, 502, 504).
                        }
                    }

                    outcome = await ReadResponseHeadAsync(stream, answerArrived).ConfigureAwait(false);
                }

                outcome = outcome != StepOutcome.Next ? outcome : await AnalyzeResponseAsync(stream).ConfigureAwait(false);
                outcome = outcome != StepOutcome.Next ? outcome : await ForwardBodyAsync(stream).ConfigureAwait(false);
                outcome = await FinishStreamAsync(stream, outcome).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // A timeout, a broken connection or a bug ends only this stream.
                outcome = await FailStreamAsync(stream, ex).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (_h2 is not null)
        {
            // Answering the failure failed too: the HTTP/2 stream is reset (an HTTP/1.x connection ends in RunAsync).
            outcome = StepOutcome.Close;
            broken = e;
        }

        if (_h2 is { } h2)
        {
            FinishHttp2Stream(h2, stream, outcome, broken);
        }

        return outcome;
    }

    /// <summary>
    /// True when the connection begins with the HTTP/2 client preface: reads on while what came may still be one (the
    /// first read holds it whole nearly always), within the request timeout the first request has anyway.
    /// </summary>
    private async ValueTask<bool> ReadHttp2PrefaceAsync()
    {
        while (Http2Session.MayBePreface(_request.Data.Span))
        {
            if (_request.Length >= Http2Session.Preface.Length)
            {
                return true;
            }

            int n = await _client.ReceiveAsync(_request.GetAppendBuffer(HeadReadSize)).ConfigureAwait(false);
            if (n == 0)
            {
                _request.Flags |= ChannelFlags.InputEnded;
                return false;
            }

            _request.Advance(n);
        }

        return false;
    }

    /// <summary>What a stream that threw answers, when HTTP still allows an answer; then the connection closes.</summary>
    private async ValueTask<StepOutcome> FailStreamAsync(HttpStream stream, Exception exception)
    {
        if (_h2 is { IsAborted: true } && !_h2.ResponseEnded && _deadlines.Expired is ConnectionDeadlines.None or ConnectionDeadlines.Stopping)
        {
            // The client reset the stream, or its connection ended: nobody is left to answer.
            stream.Fail(SessionTermination.ClientAborted, _h2.ResetCode is { } code ? $"the client reset the stream ({code})" : "the client connection ended");
            return await FinishStreamAsync(stream, StepOutcome.Close).ConfigureAwait(false);
        }

        switch (exception)
        {
            case OperationCanceledException when _deadlines.Expired != ConnectionDeadlines.None:
                await AnswerTimeoutAsync(stream).ConfigureAwait(false);
                break;
            case SocketException or ObjectDisposedException or IOException:
                stream.Fail(_serverIo ? SessionTermination.ServerAborted : SessionTermination.ClientAborted, TcpRelay.Describe(exception));
                if (stream.Log.End == SessionTermination.ServerAborted && !stream.ResponseStarted)
                {
                    await SendErrorAsync(stream, 502, close: true).ConfigureAwait(false);
                }

                break;
            default:
                // A bug in this supervisor or in an analyzer's object: this stream ends with a 500, nothing else does.
                Log.LogError(exception, "Session {Session}: the http supervisor failed", _session.Id);
                stream.Log.End = SessionTermination.InternalError;
                stream.Log.Detail = $"{exception.GetType().Name}: {exception.Message}";
                if (!stream.ResponseStarted)
                {
                    await SendErrorAsync(stream, 500, close: true).ConfigureAwait(false);
                }

                break;
        }

        return await FinishStreamAsync(stream, StepOutcome.Close).ConfigureAwait(false);
    }

    /// <summary>
    /// Starts a stream with the analyzers current now (a reloaded script or plugin serves the next request while the
    /// stream in progress finishes on the version it started with), and a stream state from the supervisor's pool.
    /// </summary>
    private HttpStream BeginStream()
    {
        IReadOnlyList<IFlowAnalyzer> requestList, responseList;
        if (_h2 is null)
        {
            _session.BeginStream();
            (requestList, responseList) = (_session.RequestAnalyzers, _session.ResponseAnalyzers);
        }
        else
        {
            // Streams of one HTTP/2 connection run at once: each holds the analyzer versions it started with.
            _lease = _session.AcquireStreamAnalyzers();
            (requestList, responseList) = (_lease.RequestAnalyzers, _lease.ResponseAnalyzers);
        }

        if (!ReferenceEquals(requestList, _requestList))
        {
            _requestList = requestList;
            _requestAnalyzers = _owner.RequestChain(requestList);
        }

        if (!ReferenceEquals(responseList, _responseList))
        {
            _responseList = responseList;
            _responseAnalyzers = _owner.ResponseChain(responseList);
        }

        HttpStream stream = _stream ??= _owner.States.Rent();
        stream.Begin(_session.Tls is not null, closeClient: Stopping && _h2 is null, _h2?.Exchange);
        _proxyStream.Http = stream.Exchange;
        _proxyStream.Reset(DefaultBackend);
        stream.RequestChain.BeginStream(_requestAnalyzers, _proxyStream);
        stream.ResponseChain.BeginStream(_responseAnalyzers, _proxyStream);
        _request.ReadLimit = _settings.MaxRequestHead;
        _response.ReadLimit = _settings.MaxRequestHead;
        _request.Flags = (_request.Flags & ChannelFlags.InputEnded) | ChannelFlags.Hold;
        _response.Flags = ChannelFlags.None;
        return stream;
    }

    /// <summary>The log phase: writes the stream's line and releases what only it needed; an idle connection keeps no stream state.</summary>
    private void EndStream(HttpStream stream, StepOutcome outcome)
    {
        if (_owner.AccessLog.IsEnabled)
        {
            StreamRecord.Write(_owner.AccessLog, _settings.Name, _clientText ??= LogNames.Format(_session.Connection.ClientEndPoint), _settings.AccessLog, stream);
        }

        NotifyStreamEnded(stream);

        _streams++;
        _deadlines.Clear();
        stream.ClientOut.ReleaseIfLarger(KeptOutput);
        stream.ServerOut.ReleaseIfLarger(KeptOutput);
        if (outcome != StepOutcome.KeepAlive || stream.Server is not null)
        {
            // A server connection not given back to the pool by now is not reusable: it closes with the stream.
            CloseServer(stream);
        }

        ReleaseStream();
    }

    private void ReleaseStream()
    {
        if (_stream is not null)
        {
            EndRetry(_stream);
            CloseServer(_stream);
            _stream.Detach(); // the server slot too
            _proxyStream.Http = null;
            _owner.States.Return(_stream);
            _stream = null;
        }
    }

    /// <summary>Drops the analyzer lists cached from the last stream.</summary>
    private void ForgetAnalyzers()
    {
        (_requestList, _responseList) = (null, null);
        (_requestAnalyzers, _responseAnalyzers) = ([], []);
    }

    /// <summary>The listener's after-response analyzers for this stream.</summary>
    private IReadOnlyList<IFlowAnalyzer> AfterResponseAnalyzers => _lease?.AfterResponseAnalyzers ?? _session.AfterResponseAnalyzers;

    private IBackend? DefaultBackend => _settings.DefaultBackend is { } name ? _session.Backends.Find(name) : null;

    private static string ClientAddressText(EndPoint endPoint) => endPoint switch
    {
        IPEndPoint ip => (ip.Address.IsIPv4MappedToIPv6 ? ip.Address.MapToIPv4() : ip.Address).ToString(),
        _ => endPoint.ToString() ?? "unknown",
    };

    private static bool IsConnectionEnd(Exception ex) => ex is SocketException or ObjectDisposedException or OperationCanceledException or IOException;

    private static void MarkReceived(Channel channel, int n)
    {
        if (n == 0)
        {
            channel.Flags |= ChannelFlags.InputEnded;
        }
        else
        {
            channel.Advance(n);
        }
    }
}
