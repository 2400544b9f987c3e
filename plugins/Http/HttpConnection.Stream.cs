using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;
using PluginProxy.Http.Forwarding;
using PluginProxy.Http.Parsing;
using PluginProxy.Plugins.Shared;

namespace PluginProxy.Http;

internal sealed partial class HttpConnection
{
    private int _streams;
    private bool _replayable;
    private bool _responseStarted;
    private long _responseByteMark;
    private IBackend? _backend;

    /// <summary>Runs one request/response exchange. True when the client connection stays open for the next one.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> RunStreamAsync()
    {
        HttpStreamState state = AcquireStreamState();
        state.BeginStream();
        _stream.Reset(DefaultBackend);
        BeginLog();
        _closeClient = Stopping;
        _responseStarted = false;
        _replayable = false;
        _backend = null;
        _request.ReadLimit = _settings.MaxRequestHead;
        _response.ReadLimit = _settings.MaxRequestHead;
        bool keepAlive;
        try
        {
            keepAlive = await ExchangeAsync(state).ConfigureAwait(false);
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
                _end = _phase is Phase.ResponseHead or Phase.Connecting ? SessionTermination.ServerAborted : SessionTermination.ClientAborted;
                _detail = ex is SocketException se ? se.SocketErrorCode.ToString() : "closed";
            }

            if (_end == SessionTermination.ServerAborted && !_responseStarted)
            {
                await SendErrorAsync(502, close: true).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            // A bug in this supervisor or an analyzer's object: this stream ends with a 500, nothing else does.
            keepAlive = false;
            Log.LogError(ex, "Session {Session}: the http supervisor failed", _session.Id);
            _end = SessionTermination.InternalError;
            _detail = $"{ex.GetType().Name}: {ex.Message}";
            if (!_responseStarted)
            {
                await SendErrorAsync(500, close: true).ConfigureAwait(false);
            }
        }

        WriteAccessLog(state);
        _streams++;
        ClearDeadlines();
        state.ClientOut.Release();
        state.ServerOut.Release();
        if (!keepAlive)
        {
            CloseServer();
        }

        ReleaseStreamState();
        return keepAlive;
    }

    /// <summary>The exchange itself: request analysis, server connection, response, bodies.</summary>
    private async ValueTask<bool> ExchangeAsync(HttpStreamState state)
    {
        _phase = Phase.RequestHead;
        if (_streams > 0)
        {
            // The first request's head must arrive within timeout_request of the accept; the next ones, of their first byte.
            SetClientDeadline(_settings.Timeouts.Request);
        }

        AnalyzerVerdict verdict = await AnalyzeAsync(_requestAnalyzers, _request, _client, response: false).ConfigureAwait(false);
        if (verdict.Action == AnalyzerAction.Stop)
        {
            return await AnswerRequestStopAsync(state, verdict.Reply!).ConfigureAwait(false);
        }

        _tHead = Stopwatch.GetTimestamp();
        Volatile.Write(ref _clientDeadline, long.MaxValue);
        HttpRequestHead request = state.Exchange.Request;
        _state!.RequestBody.Start(request.IsChunked ? BodyKind.Chunked : request.ContentLength > 0 ? BodyKind.Length : BodyKind.None, request.ContentLength ?? 0);
        _closeClient |= request.WantsClose;
        _request.Consume(state.RequestFacts.HeadLength);

        _backend = _stream.Backend;
        if (_backend is null)
        {
            _end = SessionTermination.NoBackend;
            _detail = "no route matched and the listener has no backend";
            return await SendErrorAsync(_settings.NoRouteStatus, close: _closeClient || !_state!.RequestBody.IsDone).ConfigureAwait(false);
        }

        _logBackend = _backend.Name;
        _phase = Phase.Connecting;
        if (!await ConnectAndSendRequestAsync(state, _backend).ConfigureAwait(false))
        {
            return false;
        }

        ValueTask<BodyResult> requestBody = _state!.RequestBody.IsDone ? ValueTask.FromResult(BodyResult.Complete) : PumpAsync(requestSide: true);
        bool keepAlive;
        bool serverReusable;
        try
        {
            (keepAlive, serverReusable) = await ForwardResponseAsync(state, _backend).ConfigureAwait(false);
        }
        catch
        {
            // Stop the request body pump before leaving: nothing else may touch the connection meanwhile.
            AbortRequestBody();
            await ObserveAsync(requestBody).ConfigureAwait(false);
            throw;
        }

        if (!requestBody.IsCompleted)
        {
            // The server answered before reading the whole request body: stop forwarding it and close both sides.
            _closeClient = true;
            serverReusable = false;
            AbortRequestBody();
        }

        BodyResult body = await ObserveAsync(requestBody).ConfigureAwait(false);
        if (body != BodyResult.Complete)
        {
            keepAlive = false;
            serverReusable = false;
            RecordBodyFailure(body, requestSide: true);
        }

        if (serverReusable && _server is not null && _response.Length == 0)
        {
            _owner.Pool.Return(_server);
            _server = null;
        }
        else
        {
            CloseServer();
        }

        return keepAlive && !_closeClient;
    }

    private void AbortRequestBody()
    {
        CloseServer();
        try
        {
            _client.Shutdown(SocketShutdown.Receive);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already gone.
        }
    }

    private static async ValueTask<BodyResult> ObserveAsync(ValueTask<BodyResult> pump)
    {
        try
        {
            return await pump.ConfigureAwait(false);
        }
        catch (Exception ex) when (IsConnectionEnd(ex))
        {
            return BodyResult.Aborted;
        }
    }

    /// <summary>
    /// Picks a server (a pooled idle connection to it when there is one, else a new connection with retries), then sends
    /// the request head with whatever body bytes already arrived, in one write.
    /// </summary>
    private async ValueTask<bool> ConnectAndSendRequestAsync(HttpStreamState state, IBackend backend)
    {
        // The head and the body bytes already here are written (and the body's framing checked) before any server
        // is contacted: a request refused now never reaches one.
        HttpRequestHead request = state.Exchange.Request;
        _state!.ServerOut.Start(state.RequestFacts.HeadLength + 512 + Math.Min(_request.Length, _bodyLimit));
        var options = new HeadWriter.RequestOptions(_settings.ForwardFor, _clientAddress, state.Exchange.IsTls, request.IsUpgrade);
        HeadWriter.WriteRequest(_state!.ServerOut, request, state.RequestFacts, state.RequestHead, options);
        if (AppendBody(_state!.ServerOut, _request, ref _state!.RequestBody, _bodyLimit) is var error and not HttpParseError.None)
        {
            _end = SessionTermination.BadRequest;
            _detail = HttpParseErrors.Describe(error);
            return await SendErrorAsync(400, close: true).ConfigureAwait(false);
        }

        var selection = new ServerSelection(_session.Connection.ClientEndPoint, backend.Balance == BalanceAlgorithm.Uri ? request.Path : null);
        if (backend.PickServer(selection) is { } picked && _owner.Pool.TryTake(picked) is { } pooled)
        {
            _server = pooled;
            _serverReused = true;
            _connectMs = 0;
        }
        else
        {
            long start = Stopwatch.GetTimestamp();
            ConnectResult result = await _owner.Connector.ConnectAsync(backend, selection, Token).ConfigureAwait(false);
            _retries = result.Retries;
            if (result.Connection is not { } connection)
            {
                _end = result.Failure;
                _detail = result.Detail;

                // As HAProxy: a server that cannot be reached (none up, refused, no answer to the connect) is a 503;
                // 502 is kept for a server that answered badly or reset, 504 for one too slow to answer.
                await SendErrorAsync(503, close: true).ConfigureAwait(false);
                return false;
            }

            _server = connection;
            _serverReused = false;
            _connectMs = (long)Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        _logServer = _server.Server.Name;
        // Safe to send again on a fresh connection if the server never saw it: nothing of the body is still to come,
        // and the method is idempotent (RFC 9110 §9.2.2).
        _replayable = _state!.RequestBody.IsDone && IsIdempotent(request.RawMethod);
        _responseByteMark = _response.TotalBytes;
        SetServerDeadline(backend.Timeouts.Server);
        try
        {
            await _server.Socket.SendAsync(_state!.ServerOut.Written, SocketFlags.None, Token).ConfigureAwait(false);
        }
        catch (SocketException) when (_serverReused && _replayable)
        {
            if (!await ReplayOnFreshConnectionAsync().ConfigureAwait(false))
            {
                throw;
            }
        }

        _phase = Phase.ResponseHead;
        return true;
    }

    private static bool IsIdempotent(ReadOnlySpan<byte> method) =>
        method.SequenceEqual("GET"u8) || method.SequenceEqual("HEAD"u8) || method.SequenceEqual("OPTIONS"u8) ||
        method.SequenceEqual("PUT"u8) || method.SequenceEqual("DELETE"u8) || method.SequenceEqual("TRACE"u8);

    /// <summary>Replaces a reused connection that the server had closed by a new one, and sends the request again. Once.</summary>
    private async ValueTask<bool> ReplayOnFreshConnectionAsync()
    {
        IServer server = _server!.Server;
        CloseServer();
        _serverReused = false;
        _retries++;
        long start = Stopwatch.GetTimestamp();
        ConnectResult result = await _owner.Connector.ConnectAsync(_backend!, new ServerSelection(_session.Connection.ClientEndPoint), Token).ConfigureAwait(false);
        if (result.Connection is null)
        {
            return false;
        }

        _server = result.Connection;
        _logServer = _server.Server.Name;
        _connectMs = (long)Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        await _server.Socket.SendAsync(_state!.ServerOut.Written, SocketFlags.None, Token).ConfigureAwait(false);
        Log.LogDebug("Session {Session}: pooled connection to {Server} was closed by the server; request replayed on a new one", _session.Id, server.Name);
        return true;
    }

    /// <summary>Moves the body bytes already received from <paramref name="channel"/> into <paramref name="output"/>, up to the body's end.</summary>
    private static HttpParseError AppendBody(OutputBuffer output, Channel channel, ref BodyFramer framer, int limit)
    {
        while (!framer.IsDone && channel.Length > 0 && output.Length < limit)
        {
            ReadOnlySpan<byte> data = channel.Data.Span;
            HttpParseError error = framer.Next(data, out int consumed, out Range forward);
            if (error != HttpParseError.None)
            {
                return error;
            }

            output.Write(data[forward]);
            channel.Consume(consumed);
            if (consumed == 0)
            {
                break;
            }
        }

        return HttpParseError.None;
    }

    /// <summary>
    /// Receives the response head (passing interim 1xx responses on), lets the response analyzers see it, and sends it to the
    /// client with the body that follows. Returns whether the client connection may stay open and whether the server
    /// connection may be reused.
    /// </summary>
    private async ValueTask<(bool KeepAlive, bool ServerReusable)> ForwardResponseAsync(HttpStreamState state, IBackend backend)
    {
        HttpRequestHead request = state.Exchange.Request;
        HttpResponseHead response = state.Exchange.Response;
        while (true)
        {
            state.BeginResponse();
            AnalyzerVerdict verdict = await AnalyzeAsync(_responseAnalyzers, _response, _server!.Socket, response: true).ConfigureAwait(false);
            if (verdict.Action == AnalyzerAction.Stop)
            {
                return (await AnswerResponseStopAsync(state, verdict.Reply!).ConfigureAwait(false), false);
            }

            ResponseFacts facts = state.ResponseFacts;
            if (facts.Status >= 200)
            {
                break;
            }

            _response.Consume(facts.HeadLength);
            if (facts.Status == 101)
            {
                if (!request.IsUpgrade)
                {
                    _end = SessionTermination.BadResponse;
                    _detail = "101 Switching Protocols without an upgrade request";
                    return (await SendErrorAsync(502, close: true).ConfigureAwait(false), false);
                }

                await TunnelAsync(state, backend).ConfigureAwait(false);
                return (false, false);
            }

            if (request.Version == Http1Version.Http11)
            {
                // 100 Continue, 103 Early Hints: passed on to HTTP/1.1 clients (HTTP/1.0 ones do not know them).
                _state!.ClientOut.Start(facts.HeadLength + 64);
                HeadWriter.WriteInterim(_state!.ClientOut, facts, state.ResponseHead);
                await SendToClientAsync(_state!.ClientOut.Written).ConfigureAwait(false);
            }

            _responseByteMark = _response.TotalBytes;
        }

        _tResponse = Stopwatch.GetTimestamp();
        _status = response.Status;
        _state!.ServerOut.Release();
        BodyKind kind = request.RawMethod.SequenceEqual("HEAD"u8) || response.Status is 204 or 304 ? BodyKind.None
            : response.IsChunked ? BodyKind.Chunked
            : response.ContentLength is { } length ? BodyKind.Length
            : BodyKind.UntilClose;
        bool dechunk = kind == BodyKind.Chunked && request.Version == Http1Version.Http10;
        _closeClient |= kind == BodyKind.UntilClose || dechunk;
        _state!.ResponseBody.Start(kind, response.ContentLength ?? 0, dechunk);
        _response.Consume(state.ResponseFacts.HeadLength);

        _phase = Phase.ResponseBody;
        _closeClient |= Stopping;
        _state!.ClientOut.Start(state.ResponseFacts.HeadLength + 256 + Math.Min(_response.Length, _bodyLimit));
        var options = new HeadWriter.ResponseOptions(_closeClient, request.Version == Http1Version.Http10, dechunk, Switching: false);
        HeadWriter.WriteResponse(_state!.ClientOut, response, state.ResponseFacts, state.ResponseHead, options);
        if (AppendBody(_state!.ClientOut, _response, ref _state!.ResponseBody, _bodyLimit) is var error and not HttpParseError.None)
        {
            _end = SessionTermination.BadResponse;
            _detail = HttpParseErrors.Describe(error);
            return (await SendErrorAsync(502, close: true).ConfigureAwait(false), false);
        }

        _responseStarted = true;
        await SendToClientAsync(_state!.ClientOut.Written).ConfigureAwait(false);
        _state!.ClientOut.Release();
        if (!_state!.ResponseBody.IsDone)
        {
            BodyResult result = await PumpAsync(requestSide: false).ConfigureAwait(false);
            if (result != BodyResult.Complete)
            {
                RecordBodyFailure(result, requestSide: false);
                return (false, false);
            }
        }

        bool serverReusable = kind != BodyKind.UntilClose && !response.WantsClose;
        return (!_closeClient, serverReusable);
    }

    private async ValueTask SendToClientAsync(ReadOnlyMemory<byte> bytes)
    {
        SetClientDeadline(_settings.Timeouts.Client);
        await _client.SendAsync(bytes, SocketFlags.None, Token).ConfigureAwait(false);
        _bytesOut += bytes.Length;
    }

    /// <summary>After 101 Switching Protocols: the head goes to the client, then both sides are joined as a tunnel.</summary>
    private async ValueTask TunnelAsync(HttpStreamState state, IBackend backend)
    {
        _tResponse = Stopwatch.GetTimestamp();
        _status = 101;
        _phase = Phase.Tunnel;
        ClearDeadlines();
        HttpResponseHead response = state.Exchange.Response;
        _state!.ClientOut.Start(state.ResponseFacts.HeadLength + 64);
        HeadWriter.WriteResponse(_state!.ClientOut, response, state.ResponseFacts, state.ResponseHead, new HeadWriter.ResponseOptions(false, false, false, Switching: true));
        _responseStarted = true;
        await _client.SendAsync(_state!.ClientOut.Written, SocketFlags.None).ConfigureAwait(false);
        _bytesOut += _state!.ClientOut.Length;
        _state!.ClientOut.Release();

        // Bytes that arrived with the heads already belong to the new protocol.
        if (_response.Length > 0)
        {
            await _client.SendAsync(_response.Data, SocketFlags.None).ConfigureAwait(false);
            _bytesOut += _response.Length;
            _response.Consume(_response.Length);
        }

        if (_request.Length > 0)
        {
            await _server!.Socket.SendAsync(_request.Data, SocketFlags.None).ConfigureAwait(false);
            _request.Consume(_request.Length);
        }

        var relay = new TcpRelay(_session, _client, _server!.Socket, backend.Timeouts, _settings.BufferSize);
        _owner.Timeouts.Add(relay);
        try
        {
            await relay.RunAsync().ConfigureAwait(false);
        }
        finally
        {
            _owner.Timeouts.Remove(relay);
        }

        _bytesOut += _session.Log.BytesFromServer;
        _end = _session.Log.Termination;
        _closeClient = true;
    }
}
