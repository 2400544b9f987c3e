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
    private readonly bool[] _bypassed;
    private readonly ProxyStream _stream;
    private readonly Channel _request;
    private readonly Channel _response;
    private readonly OutputBuffer _output = new();
    private readonly CancellationTokenSource _cancel = new();
    private readonly byte[] _clientAddress;
    private readonly int _bodyLimit;

    private HttpStreamState? _state;
    private ServerConnection? _server;
    private bool _serverReused;
    private BodyFramer _requestBody;
    private BodyFramer _responseBody;
    private Phase _phase;
    private bool _stopping;
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
        _bypassed = new bool[Math.Max(requestAnalyzers.Length, responseAnalyzers.Length)];
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

    private CancellationToken Token => _cancel.Token;

    public async ValueTask RunAsync()
    {
        _session.Log.LoggedByStreams = true;
        _owner.Timeouts.Add(this);
        CancellationTokenRegistration stopping = _session.Stopping.UnsafeRegister(static s => ((HttpConnection)s!).OnStopping(), this);
        try
        {
            bool first = true;
            while (await WaitForRequestAsync(first).ConfigureAwait(false))
            {
                first = false;
                if (!await RunStreamAsync().ConfigureAwait(false))
                {
                    break;
                }
            }
        }
        finally
        {
            await stopping.DisposeAsync().ConfigureAwait(false);
            _owner.Timeouts.Remove(this);
            CloseServer();
            ReleaseStreamState();
            _request.Release();
            _response.Release();
            _output.Release();
            _cancel.Dispose();
        }
    }

    /// <summary>
    /// Waits for the first byte of the next request without holding a buffer (idle keep-alive connections cost no
    /// memory for data). False when the client closed, stayed idle too long, or the proxy is stopping.
    /// </summary>
    private async ValueTask<bool> WaitForRequestAsync(bool first)
    {
        if (_request.Length > 0)
        {
            // A pipelined request is already here.
            return true;
        }

        if (_stopping && !first)
        {
            return false;
        }

        _phase = Phase.Idle;
        SetClientDeadline(first ? _settings.Timeouts.Request : _settings.Timeouts.KeepAlive);
        try
        {
            await _client.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, Token).ConfigureAwait(false);
            int n = await _client.ReceiveAsync(_request.GetAppendBuffer(_settings.MaxRequestHead), SocketFlags.None, Token).ConfigureAwait(false);
            if (n == 0)
            {
                _request.Release();
                return false;
            }

            _request.Advance(n);
            return true;
        }
        catch (Exception ex) when (IsConnectionEnd(ex))
        {
            // Idle timeout, stop, or the client went away between requests: a normal end of a keep-alive connection.
            _request.Release();
            return false;
        }
    }

    private void OnStopping()
    {
        _stopping = true;
        if (_phase == Phase.Idle && _request.Length == 0 && Interlocked.CompareExchange(ref _expired, ExpiredStopping, 0) == 0)
        {
            _ = _cancel.CancelAsync();
        }
    }

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

    public bool IsExpired(long now) => now >= Volatile.Read(ref _clientDeadline) || now >= Volatile.Read(ref _serverDeadline);

    public void Expire(long now)
    {
        int side = now >= Volatile.Read(ref _clientDeadline) ? ExpiredClient : now >= Volatile.Read(ref _serverDeadline) ? ExpiredServer : 0;
        if (side != 0 && Interlocked.CompareExchange(ref _expired, side, 0) == 0)
        {
            // Cancels every pending read and write of this connection; the stream answers (408, 504) or closes.
            _ = _cancel.CancelAsync();
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
