using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;

namespace PluginProxy.Http.Engine;

/// <summary>
/// One client connection of an http listener. Its life is a loop over streams, and each stream is a short sequence of
/// named phases (<see cref="RunStreamAsync"/>): read the request head, analyze the request, choose a server, connect,
/// forward the request, read the response head, analyze the response, forward the body, log. Each phase returns a
/// <see cref="StepOutcome"/>; the stream's state lives in one <see cref="HttpStream"/>, the connection keeps only what
/// outlives a stream (the client, its two channels, the analyzer chains, the deadlines).
/// </summary>
/// <remarks>
/// The phases are async methods whose state machines come from a pool, and they complete synchronously whenever the
/// data is already there, so a request on a reused server connection allocates nothing.
/// </remarks>
internal sealed partial class HttpConnection
{
    /// <summary>What a head read rents at first: most heads are far smaller than the read limit; the channel grows if needed.</summary>
    private const int HeadReadSize = 4096;

    private readonly HttpSupervisor _owner;
    private readonly ISession _session;
    private readonly Transport _client;
    private readonly ListenerSettings _settings;
    private readonly HttpListenerOptions _options;
    private readonly Channel _request;
    private readonly Channel _response;
    private readonly ProxyStream _proxyStream;
    private readonly AnalyzerChain _requestChain = new();
    private readonly AnalyzerChain _responseChain = new();
    private readonly ConnectionDeadlines _deadlines;
    private readonly byte[] _clientAddress;
    private readonly int _bodyLimit;
    private IReadOnlyList<IFlowAnalyzer>? _requestList;
    private IReadOnlyList<IFlowAnalyzer>? _responseList;
    private IFlowAnalyzer[] _requestAnalyzers = [];
    private IFlowAnalyzer[] _responseAnalyzers = [];
    private HttpStream? _stream;
    private string? _clientText;
    private int _streams;

    /// <summary>Which side the pending operation of the stream is on, to name the side that failed.</summary>
    private bool _serverIo;

    public HttpConnection(HttpSupervisor owner, ISession session)
    {
        _owner = owner;
        _session = session;
        _client = session.Transport;
        _settings = session.Listener;
        _options = owner.OptionsFor(_settings);
        _request = new Channel(ChannelDirection.Request, _settings.MaxRequestHead);
        _response = new Channel(ChannelDirection.Response, _settings.MaxRequestHead);
        _proxyStream = new ProxyStream(session, _request, _response);
        _deadlines = new ConnectionDeadlines(_client, session.Stopping);
        _bodyLimit = Math.Max(_settings.BufferSize, _settings.MaxRequestHead);
        _clientAddress = _options.ForwardFor ? Encoding.ASCII.GetBytes(ClientAddressText(session.Connection.ClientEndPoint)) : [];
        session.Attach(_proxyStream);
    }

    private CancellationToken Token => _deadlines.Token;

    private bool Stopping => _session.Stopping.IsCancellationRequested;

    private ILogger Log => _owner.Logger;

    /// <summary>The connection's life: wait for a request, run its stream, repeat while keep-alive allows.</summary>
    public async ValueTask RunAsync()
    {
        _session.Log.LoggedByStreams = true;
        _owner.Timeouts.Add(_deadlines);
        try
        {
            while (await WaitForRequestAsync().ConfigureAwait(false))
            {
                HttpStream stream = BeginStream();
                StepOutcome outcome = await RunStreamAsync(stream).ConfigureAwait(false);
                EndStream(stream, outcome);
                if (outcome != StepOutcome.KeepAlive)
                {
                    break;
                }
            }
        }
        finally
        {
            _owner.Timeouts.Remove(_deadlines);
            ReleaseStream();
            _request.Release();
            _response.Release();
            _deadlines.Dispose();
        }
    }

    /// <summary>
    /// Between requests: waits for the first byte of the next one without holding a buffer, so an idle keep-alive
    /// connection costs no memory for data. The heartbeat closes the socket if it idles too long or the proxy stops; that
    /// ends this wait. A pipelined request already in the channel needs no wait. False when the connection is over.
    /// </summary>
    private async ValueTask<bool> WaitForRequestAsync()
    {
        if (_request.Length > 0)
        {
            return true;
        }

        bool first = _streams == 0;
        if (!first && Stopping)
        {
            return false;
        }

        _deadlines.Phase = StreamPhase.Idle;
        _deadlines.SetClient(first ? _settings.Timeouts.Request : _settings.Timeouts.KeepAlive);
        try
        {
            await _client.WaitForDataAsync().ConfigureAwait(false);
            int n = await _client.ReceiveAsync(_request.GetAppendBuffer(HeadReadSize)).ConfigureAwait(false);
            if (n == 0)
            {
                return false;
            }

            _request.Advance(n);
            return true;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or IOException)
        {
            // Idle timeout, stop, or the client went away between requests: a normal end of a keep-alive connection.
            return false;
        }
    }

    /// <summary>One stream, phase after phase, until one of them ends it; a timeout, a broken connection or a bug ends only this stream.</summary>
    private async ValueTask<StepOutcome> RunStreamAsync(HttpStream stream)
    {
        try
        {
            StepOutcome outcome = await ReadRequestHeadAsync(stream).ConfigureAwait(false);
            if (outcome == StepOutcome.Next)
            {
                outcome = await AnalyzeRequestAsync(stream).ConfigureAwait(false);
            }

            if (outcome == StepOutcome.Next)
            {
                outcome = await ChooseServerAsync(stream).ConfigureAwait(false);
            }

            if (outcome == StepOutcome.Next)
            {
                outcome = await ConnectAsync(stream).ConfigureAwait(false);
            }

            if (outcome == StepOutcome.Next)
            {
                outcome = await ForwardRequestAsync(stream).ConfigureAwait(false);
            }

            if (outcome == StepOutcome.Next)
            {
                outcome = await ReadResponseHeadAsync(stream).ConfigureAwait(false);
            }

            if (outcome == StepOutcome.Next)
            {
                outcome = await AnalyzeResponseAsync(stream).ConfigureAwait(false);
            }

            if (outcome == StepOutcome.Next)
            {
                outcome = await ForwardBodyAsync(stream).ConfigureAwait(false);
            }

            return await FinishStreamAsync(stream, outcome).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_deadlines.Expired != ConnectionDeadlines.None)
        {
            await AnswerTimeoutAsync(stream).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or IOException)
        {
            stream.Fail(_serverIo ? SessionTermination.ServerAborted : SessionTermination.ClientAborted, TcpRelay.Describe(ex));
            if (stream.Log.End == SessionTermination.ServerAborted && !stream.ResponseStarted)
            {
                await SendErrorAsync(stream, 502, close: true).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            // A bug in this supervisor or in an analyzer's object: this stream ends with a 500, nothing else does.
            Log.LogError(ex, "Session {Session}: the http supervisor failed", _session.Id);
            stream.Log.End = SessionTermination.InternalError;
            stream.Log.Detail = $"{ex.GetType().Name}: {ex.Message}";
            if (!stream.ResponseStarted)
            {
                await SendErrorAsync(stream, 500, close: true).ConfigureAwait(false);
            }
        }

        return await FinishStreamAsync(stream, StepOutcome.Close).ConfigureAwait(false);
    }

    /// <summary>
    /// Starts a stream with the analyzers current now (a reloaded script or plugin serves the next request while the
    /// stream in progress finishes on the version it started with), and a stream state from the supervisor's pool.
    /// </summary>
    private HttpStream BeginStream()
    {
        _session.BeginStream();
        if (!ReferenceEquals(_session.RequestAnalyzers, _requestList))
        {
            _requestList = _session.RequestAnalyzers;
            _requestAnalyzers = _owner.RequestChain(_requestList);
        }

        if (!ReferenceEquals(_session.ResponseAnalyzers, _responseList))
        {
            _responseList = _session.ResponseAnalyzers;
            _responseAnalyzers = _owner.ResponseChain(_responseList);
        }

        HttpStream stream = _stream ??= _owner.RentStream();
        stream.Begin(_session.Tls is not null, closeClient: Stopping);
        _proxyStream.Http = stream.Exchange;
        _proxyStream.Reset(DefaultBackend);
        _requestChain.BeginStream(_requestAnalyzers, _proxyStream);
        _responseChain.BeginStream(_responseAnalyzers, _proxyStream);
        _request.ReadLimit = _settings.MaxRequestHead;
        _response.ReadLimit = _settings.MaxRequestHead;
        _request.Flags = (_request.Flags & ChannelFlags.InputEnded) | ChannelFlags.Hold;
        _response.Flags = ChannelFlags.None;
        return stream;
    }

    /// <summary>The log phase: writes the stream's line and releases what only it needed; an idle connection keeps no stream state.</summary>
    private void EndStream(HttpStream stream, StepOutcome outcome)
    {
        if (_settings.AccessLog && _owner.AccessLog.IsEnabled)
        {
            AccessLogLine.Write(_owner.AccessLog, _settings.Name, _clientText ??= LogNames.Format(_session.Connection.ClientEndPoint), stream);
        }

        NotifyStreamEnded(stream);

        _streams++;
        _deadlines.Clear();
        stream.ClientOut.Release();
        stream.ServerOut.Release();
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
            CloseServer(_stream);
            _proxyStream.Http = null;
            _owner.ReturnStream(_stream);
            _stream = null;
        }
    }

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
