using System.Diagnostics;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;
using PluginProxy.Http.Forwarding;
using PluginProxy.Http.Parsing;

namespace PluginProxy.Http;

/// <summary>What a run of the analyzer chain came to.</summary>
internal enum AnalysisStep
{
    /// <summary>Every analyzer released the channel.</summary>
    Released,

    /// <summary>An analyzer stopped the stream; the verdict holds its reply.</summary>
    Stopped,

    /// <summary>An analyzer wants more data.</summary>
    NeedMore,

    /// <summary>An analyzer did not complete synchronously: await <c>_pendingAnalyzer</c>, then resume.</summary>
    Pending,
}

/// <summary>
/// The synchronous steps of a stream. The connection's one long-lived async method calls them between its awaits, so
/// that a request allocates nothing (an async helper would allocate a state machine each time it waits).
/// </summary>
internal sealed partial class HttpConnection
{
    private ValueTask<AnalyzerVerdict> _pendingAnalyzer;
    private int _streams;

    private HttpStreamState BeginStream()
    {
        // Each request runs with the analyzers current when it starts (a reloaded script or plugin serves the next one).
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
        _request.Flags |= ChannelFlags.Hold;
        Array.Clear(state.Bypassed);
        return state;
    }

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

    /// <summary>
    /// Runs the analyzers from <paramref name="next"/> on, as long as they complete synchronously. Analyzers that are done
    /// are not called again for this message; the one that asked for more data is called again when it arrived. For a
    /// response, analysis also ends once http_lb_resp parsed an interim (1xx) head: those go to the client unanalyzed.
    /// </summary>
    private AnalysisStep RunAnalyzers(IFlowAnalyzer[] analyzers, Channel channel, bool response, ref int next, ref AnalyzerVerdict verdict)
    {
        bool[] bypassed = Bypassed(analyzers.Length);
        for (; next < analyzers.Length; next++)
        {
            if (bypassed[next])
            {
                continue;
            }

            ValueTask<AnalyzerVerdict> call;
            try
            {
                call = analyzers[next].AnalyzeAsync(_stream, channel, Token);
            }
            catch (Exception ex)
            {
                verdict = AnalyzerFailed(analyzers[next], ex, response);
                return AnalysisStep.Stopped;
            }

            if (!call.IsCompletedSuccessfully)
            {
                _pendingAnalyzer = call;
                return AnalysisStep.Pending;
            }

            verdict = call.Result;
            if (Apply(analyzers, channel, response, ref next, verdict) is { } decided)
            {
                return decided;
            }
        }

        channel.Flags &= ~ChannelFlags.Hold;
        return AnalysisStep.Released;
    }

    /// <summary>Continues the chain after an analyzer that completed asynchronously gave <paramref name="verdict"/>.</summary>
    private AnalysisStep Resume(IFlowAnalyzer[] analyzers, Channel channel, bool response, ref int next, ref AnalyzerVerdict verdict)
    {
        if (Apply(analyzers, channel, response, ref next, verdict) is { } decided)
        {
            return decided;
        }

        next++;
        return RunAnalyzers(analyzers, channel, response, ref next, ref verdict);
    }

    /// <summary>What one verdict means for the chain; null to go on with the next analyzer.</summary>
    private AnalysisStep? Apply(IFlowAnalyzer[] analyzers, Channel channel, bool response, ref int next, AnalyzerVerdict verdict)
    {
        switch (verdict.Action)
        {
            case AnalyzerAction.NeedMoreData:
                return AnalysisStep.NeedMore;
            case AnalyzerAction.Stop:
                return AnalysisStep.Stopped;
            case AnalyzerAction.Bypass:
                _state!.Bypassed[next] = true;
                break;
        }

        if (response && _state!.Exchange.HasResponse && _state.ResponseFacts.Status < 200)
        {
            channel.Flags &= ~ChannelFlags.Hold;
            next = analyzers.Length;
            return AnalysisStep.Released;
        }

        return null;
    }

    private bool[] Bypassed(int count)
    {
        if (_state!.Bypassed.Length < count)
        {
            _state.Bypassed = new bool[count];
        }

        return _state.Bypassed;
    }

    /// <summary>An analyzer (a plugin or a script) threw: only this stream ends, with a 500.</summary>
    private AnalyzerVerdict AnalyzerFailed(IFlowAnalyzer analyzer, Exception ex, bool response)
    {
        string name = _session.DescribeAnalyzer(analyzer);
        Log.LogError(ex, "Session {Session}: {Side} analyzer {Analyzer} threw", _session.Id, response ? "response" : "request", name);
        _end = SessionTermination.InternalError;
        _detail = ex is AnalyzerException
            ? ex.Message
            : $"{name} threw {ex.GetType().Name}: {ex.Message}";
        return AnalyzerVerdict.Stop(ErrorReplies.For(500));
    }

    /// <summary>
    /// After the request analyzers released the head: takes the head off the channel, picks the backend, and writes the
    /// head as the server should see it, with the body bytes already received, into the server output (checking their
    /// framing) before any server is contacted. Returns 0, or the status to answer instead.
    /// </summary>
    private int PrepareRequest(HttpStreamState state, out bool close)
    {
        close = true;
        _tHead = Stopwatch.GetTimestamp();
        Volatile.Write(ref _clientDeadline, long.MaxValue);
        HttpRequestHead request = state.Exchange.Request;
        state.RequestBody.Start(request.IsChunked ? BodyKind.Chunked : request.ContentLength > 0 ? BodyKind.Length : BodyKind.None, request.ContentLength ?? 0);
        _closeClient |= request.WantsClose;
        _request.Consume(state.RequestFacts.HeadLength);

        _backend = _stream.Backend;
        if (_backend is null)
        {
            _end = SessionTermination.NoBackend;
            _detail = "no route matched and the listener has no backend";
            close = _closeClient || !state.RequestBody.IsDone;
            return _owner.OptionsFor(_settings).NoRouteStatus;
        }

        _logBackend = _backend.Name;
        OutputBuffer output = state.ServerOut;
        output.Start(state.RequestFacts.HeadLength + 512 + Math.Min(_request.Length, _bodyLimit));
        var options = new HeadWriter.RequestOptions(_owner.OptionsFor(_settings).ForwardFor, _clientAddress, state.Exchange.IsTls, request.IsUpgrade);
        HeadWriter.WriteRequest(output, request, state.RequestFacts, state.RequestHead, options);
        if (AppendBody(output, _request, ref state.RequestBody, _bodyLimit) is var error and not HttpParseError.None)
        {
            _end = SessionTermination.BadRequest;
            _detail = HttpParseErrors.Describe(error);
            return 400;
        }

        // Safe to send again on a fresh connection if the server never saw it: nothing of the body is still to come,
        // and the method is idempotent (RFC 9110 §9.2.2).
        _replayable = state.RequestBody.IsDone && IsIdempotent(request.RawMethod);
        return 0;
    }

    /// <summary>
    /// Picks the stream's server, once: the server whose idle connections are looked at is the one connected to when
    /// there is none, so a balancer's turn is never spent twice. Takes an idle connection to it if the request may go on
    /// one: with <c>http_reuse = "safe"</c> (the default) only a request that can be sent again
    /// (<see cref="_replayable"/>) does, because the server may be closing that connection at this very moment; any
    /// other request gets a new connection.
    /// </summary>
    private bool TakePooledServer(HttpStreamState state)
    {
        _picked = _backend!.PickServer(Selection(state));
        bool mayReuse = _replayable || _backend.HttpReuse == HttpReuse.Always;
        // A request that could not be sent again (http_reuse = "always") is worth a poll of the connection first.
        if (_picked is null || !mayReuse || _owner.Pool.TryTake(_picked, check: !_replayable) is not { } pooled)
        {
            return false;
        }

        _pooled = pooled;
        _server = pooled.Connection;
        _serverReused = true;
        _connectMs = 0;
        return true;
    }

    private ServerSelection Selection(HttpStreamState state) =>
        new(_session.Connection.ClientEndPoint, _backend!.Balance == BalanceAlgorithm.Uri ? state.Exchange.Request.Path : null);

    private static bool IsIdempotent(ReadOnlySpan<byte> method) =>
        method.SequenceEqual("GET"u8) || method.SequenceEqual("HEAD"u8) || method.SequenceEqual("OPTIONS"u8) ||
        method.SequenceEqual("PUT"u8) || method.SequenceEqual("DELETE"u8) || method.SequenceEqual("TRACE"u8);

    private bool CanReplayOnFreshConnection() => _serverReused && _replayable && _response.TotalBytes == _responseByteMark && _server is not null;

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
    /// After the response analyzers released a final head: decides how the body is framed for the client, and writes the
    /// head with the body bytes already received into the client output.
    /// </summary>
    private HttpParseError PrepareResponse(HttpStreamState state)
    {
        HttpRequestHead request = state.Exchange.Request;
        HttpResponseHead response = state.Exchange.Response;
        _tResponse = Stopwatch.GetTimestamp();
        _status = response.Status;
        state.ServerOut.Release();
        BodyKind kind = request.RawMethod.SequenceEqual("HEAD"u8) || response.Status is 204 or 304 ? BodyKind.None
            : response.IsChunked ? BodyKind.Chunked
            : response.ContentLength is not null ? BodyKind.Length
            : BodyKind.UntilClose;
        bool dechunk = kind == BodyKind.Chunked && request.Version == HttpProtocol.Http10;
        _closeClient |= kind == BodyKind.UntilClose || dechunk || Stopping;
        state.ResponseBody.Start(kind, response.ContentLength ?? 0, dechunk);
        _response.Consume(state.ResponseFacts.HeadLength);
        _phase = Phase.ResponseBody;

        OutputBuffer output = state.ClientOut;
        output.Start(state.ResponseFacts.HeadLength + 256 + Math.Min(_response.Length, _bodyLimit));
        var options = new HeadWriter.ResponseOptions(_closeClient, request.Version == HttpProtocol.Http10, dechunk, Switching: false);
        HeadWriter.WriteResponse(output, response, state.ResponseFacts, state.ResponseHead, options);
        HttpParseError error = AppendBody(output, _response, ref state.ResponseBody, _bodyLimit);
        if (error == HttpParseError.None)
        {
            _responseStarted = true;
        }

        return error;
    }

    /// <summary>Writes an interim (1xx) response for the client into the client output.</summary>
    private void PrepareInterim(HttpStreamState state)
    {
        state.ClientOut.Start(state.ResponseFacts.HeadLength + 64);
        HeadWriter.WriteInterim(state.ClientOut, state.ResponseFacts, state.ResponseHead);
    }

    /// <summary>Logs the stream and releases what only it needed; an idle connection keeps no stream state.</summary>
    private void EndStream(HttpStreamState state, bool keepAlive)
    {
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
    }
}
