using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;
using PluginProxy.Http.Forwarding;
using PluginProxy.Plugins.Shared;

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
    private readonly Socket _client;
    private readonly ListenerSettings _settings;
    private readonly IFlowAnalyzer[] _requestAnalyzers;
    private readonly IFlowAnalyzer[] _responseAnalyzers;
    private readonly ProxyStream _stream;
    private readonly Channel _request;
    private readonly Channel _response;
    private CancellationTokenSource? _cancel;
    private readonly byte[] _clientAddress;
    private readonly int _bodyLimit;

    private HttpStreamState? _state;
    private ServerConnection? _server;
    private bool _serverReused;
    private Phase _phase;
    private bool _closeClient;

    // Deadlines as Environment.TickCount64 values, checked by the supervisor's TimeoutScanner.
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

    public HttpConnection(HttpSupervisor owner, ISession session, IFlowAnalyzer[] requestAnalyzers, IFlowAnalyzer[] responseAnalyzers)
    {
        _owner = owner;
        _session = session;
        _client = session.Connection.Socket;
        _settings = session.Listener;
        _requestAnalyzers = requestAnalyzers;
        _responseAnalyzers = responseAnalyzers;
        _request = new Channel(ChannelDirection.Request, _settings.MaxRequestHead);
        _response = new Channel(ChannelDirection.Response, _settings.MaxRequestHead);
        _stream = new ProxyStream(session, _request, _response);
        _bodyLimit = Math.Max(_settings.BufferSize, _settings.MaxRequestHead);
        _clientAddress = _settings.ForwardFor ? Encoding.ASCII.GetBytes(ClientAddressText(session.Connection.ClientEndPoint)) : [];
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
                    // keep-alive connection costs no memory for data. The timeout scanner closes the socket if it idles
                    // too long or the proxy stops; that ends this wait.
                    if (!first && Stopping)
                    {
                        break;
                    }

                    _phase = Phase.Idle;
                    SetClientDeadline(first ? _settings.Timeouts.Request : _settings.Timeouts.KeepAlive);
                    try
                    {
                        await _client.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);
                        int n = await _client.ReceiveAsync(_request.GetAppendBuffer(HeadReadSize), SocketFlags.None).ConfigureAwait(false);
                        if (n == 0)
                        {
                            break;
                        }

                        _request.Advance(n);
                    }
                    catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                    {
                        // Idle timeout, stop, or the client went away between requests: a normal end of a keep-alive connection.
                        break;
                    }
                }

                first = false;
                if (!await RunStreamAsync().ConfigureAwait(false))
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

    /// <summary>What a head read rents at first: most heads are far smaller than the read limit; the channel grows if needed.</summary>
    private const int HeadReadSize = 4096;

    private static bool IsConnectionEnd(Exception ex) => ex is SocketException or ObjectDisposedException or OperationCanceledException;

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
            _state.MaxRequestBody = _settings.MaxRequestBody ?? -1;
            _state.Exchange.IsTls = false;
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
        _server?.Dispose();
        _server = null;
    }

    private long Elapsed(long since) => since == 0 ? -1 : (long)Stopwatch.GetElapsedTime(since).TotalMilliseconds;

    private ILogger Log => _owner.Logger;
}
