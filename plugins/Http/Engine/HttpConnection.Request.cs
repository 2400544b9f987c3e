using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;
using PluginProxy.Http.Codec;
using PluginProxy.Http.Codec.H1;

namespace PluginProxy.Http.Engine;

/// <summary>The request phases: read the request head, analyze the request, choose a server, connect, forward the request.</summary>
internal sealed partial class HttpConnection
{
    /// <summary>Phase 1: the codec reads the request head into the message (400, 414, 431 and friends are answered here).</summary>
    private async ValueTask<StepOutcome> ReadRequestHeadAsync(HttpStream stream)
    {
        _deadlines.Phase = StreamPhase.RequestHead;
        if (_streams > 0)
        {
            // The first request's head must arrive within timeout_request of the accept; the next ones, of their first byte.
            _deadlines.SetClient(_settings.Timeouts.Request);
        }

        HttpExchange exchange = stream.Exchange;
        while (true)
        {
            switch (Http1Decoder.DecodeRequest(_request, stream.RequestFacts, ref stream.RequestHead, exchange.Request, exchange.IsTls, out HttpParseError error))
            {
                case DecodeStatus.Decoded:
                    exchange.HasRequest = true;
                    exchange.RequestBody.Start(stream.RequestFacts.Chunked ? null : Math.Max(stream.RequestFacts.ContentLength, 0));
                    return StepOutcome.Next;
                case DecodeStatus.Failed when error == HttpParseError.Truncated:
                    stream.Fail(SessionTermination.ClientAborted, "the client closed before the end of the request head");
                    return StepOutcome.Close;
                case DecodeStatus.Failed:
                    stream.Fail(SessionTermination.BadRequest, HttpParseErrors.Describe(error));
                    return await SendErrorAsync(stream, HttpParseErrors.RequestStatus(error), close: true).ConfigureAwait(false);
            }

            _serverIo = false;
            MarkReceived(_request, await _client.ReceiveAsync(_request.GetAppendBuffer(HeadReadSize), Token).ConfigureAwait(false));
        }
    }

    /// <summary>
    /// Phase 2: the request analyzers (http_lb_req first unless the listener places it) hold the request channel until
    /// they release it, each for at most its own timeout (else <c>timeout_request</c>) from the first byte of the request.
    /// </summary>
    private async ValueTask<StepOutcome> AnalyzeRequestAsync(HttpStream stream)
    {
        _deadlines.Phase = StreamPhase.AnalyzeRequest;
        CountTracked(stream);
        stream.RequestChain.Begin(_request);
        while (true)
        {
            _deadlines.SetClientFrom(stream.HoldStart, stream.RequestChain.HoldTimeout(_settings.Timeouts.Request));
            switch (await stream.RequestChain.RunAsync(Token).ConfigureAwait(false))
            {
                case ChainStep.Released:
                    return StepOutcome.Next;
                case ChainStep.Stopped:
                    return await AnswerRequestStopAsync(stream, stream.RequestChain.Verdict.Reply!).ConfigureAwait(false);
                case ChainStep.Failed:
                    return await AnswerAnalyzerFailureAsync(stream, stream.RequestChain, "request").ConfigureAwait(false);
            }

            if (_request.InputEnded || _request.IsFull)
            {
                // An analyzer kept asking for more than the client sent, or than the channel holds.
                stream.Fail(SessionTermination.BadRequest, $"{_session.DescribeAnalyzer(stream.RequestChain.Current!)} wanted more of the request than "
                    + (_request.IsFull ? "the read limit holds" : "the client sent"));
                return await SendErrorAsync(stream, _request.IsFull ? 413 : 400, close: true).ConfigureAwait(false);
            }

            _serverIo = false;
            MarkReceived(_request, await ReceiveFromClientAsync(_request.GetAppendBuffer(HeadReadSize)).ConfigureAwait(false));
        }
    }

    /// <summary>More of the request: bytes of an HTTP/1.x connection, or the data of an HTTP/2 stream.</summary>
    private ValueTask<int> ReceiveFromClientAsync(Memory<byte> buffer) =>
        _h2 is null ? _client.ReceiveAsync(buffer, Token) : _h2.ReadBodyAsync(buffer, Token);

    /// <summary>
    /// Phase 3: takes the analyzed head off the channel, writes it as the server should see it (with the body bytes
    /// already received, their framing checked) before any server is contacted, and picks the server, once: a slot on
    /// it, waiting in the backend's queue while the servers are at their <c>maxconn</c> (503 after <c>timeout_queue</c>).
    /// </summary>
    private ValueTask<StepOutcome> ChooseServerAsync(HttpStream stream)
    {
        if (_request.IsHeld)
        {
            throw new InvalidOperationException("the request channel is still held by its analyzers");
        }

        _deadlines.Phase = StreamPhase.Connecting;
        if (PrepareRequest(stream, out bool close) is int refusal and not 0)
        {
            return SendErrorAsync(stream, refusal, close);
        }

        stream.Selection = MakeSelection(stream);
        ValueTask<ServerLease> acquire = stream.Backend!.AcquireAsync(stream.Selection, null, Token);
        return acquire.IsCompletedSuccessfully ? PickServer(stream, acquire.Result) : WaitForSlotAsync(stream, acquire);
    }

    /// <summary>The stream waits in a queue for a server slot.</summary>
    private async ValueTask<StepOutcome> WaitForSlotAsync(HttpStream stream, ValueTask<ServerLease> acquire) =>
        await PickServer(stream, await acquire.ConfigureAwait(false)).ConfigureAwait(false);

    /// <summary>Returns 0, or the status to answer instead of forwarding.</summary>
    private int PrepareRequest(HttpStream stream, out bool close)
    {
        close = true;
        stream.Log.HeadDone = Stopwatch.GetTimestamp();
        _deadlines.ClearClient();
        RequestFacts facts = stream.RequestFacts;
        HttpRequestHead request = stream.Exchange.Request;
        BodyKind kind = facts.Chunked ? BodyKind.Chunked : facts.ContentLength > 0 ? BodyKind.Length : BodyKind.None;
        if (_h2 is not null && request.HasBody && request.ContentLength is null)
        {
            // An HTTP/2 body of unknown length: it ends with the stream, and goes to the server in chunked coding.
            kind = BodyKind.UntilClose;
            stream.ChunkRequestBody = true;
        }

        stream.RequestBody.Start(kind, Math.Max(facts.ContentLength, 0), trailers: facts.Chunked ? stream.Exchange.RequestBody.Trailers : null);
        stream.CloseClient |= facts.WantsClose;
        _request.Consume(facts.HeadLength);
        stream.Log.BytesIn += facts.HeadLength;

        stream.Log.Activity = _owner.Tracing?.Start(_settings.Name, request, stream.Log.StartWall);
        stream.Backend = _proxyStream.Backend;
        if (stream.Backend is null)
        {
            stream.Fail(SessionTermination.NoBackend, "no route matched and the listener has no backend");
            close = stream.CloseClient || !stream.RequestBody.IsDone;
            return _options.NoRouteStatus;
        }

        stream.Log.Backend = stream.Backend;
        OutputBuffer output = stream.ServerOut;
        output.Start(facts.HeadLength + 512 + Math.Min(_request.Length, _bodyLimit));
        var options = new HeadWriter.RequestOptions(_options.ForwardFor, _clientAddress, stream.Exchange.IsTls, facts.IsUpgrade, stream.ChunkRequestBody);
        HeadWriter.WriteRequest(output, request, facts, stream.RequestHead, options);
        if (stream.ChunkRequestBody)
        {
            AppendChunked(stream, output);
        }
        else if (AppendBody(output, _request, ref stream.RequestBody, _bodyLimit) is var error and not HttpParseError.None)
        {
            stream.Fail(SessionTermination.BadRequest, HttpParseErrors.Describe(error));
            return 400;
        }

        stream.Replayable = stream.RequestBody.IsDone && IsIdempotent(request.RawMethod);
        return 0;
    }

    /// <summary>
    /// The balancer's one pick for this stream: the server whose idle connections are looked at is the one connected to
    /// when there is none, so a turn is never spent twice. With <c>http_reuse = "safe"</c> (the default) only a request
    /// that can be sent again goes on an idle connection, since the server may be closing it at this very moment.
    /// </summary>
    private ValueTask<StepOutcome> PickServer(HttpStream stream, ServerLease lease)
    {
        IBackend backend = stream.Backend!;
        stream.Slot = lease;
        stream.Log.Queue = lease.QueueTime;
        if (!lease.IsHeld)
        {
            stream.Fail(lease.Failure, lease.Detail);
            return SendErrorAsync(stream, 503, close: true);
        }

        stream.Picked = lease.Server;
        bool mayReuse = stream.Replayable || backend.HttpReuse == HttpReuse.Always;
        // A request that could not be sent again (http_reuse = "always") is worth a poll of the connection first.
        if (stream.Picked is { Protocol: ServerProtocol.Http1 } && mayReuse && _owner.Pool.TryTake(stream.Picked, check: !stream.Replayable) is { } pooled)
        {
            stream.Pooled = pooled;
            stream.Server = pooled.Connection;
            stream.ServerReused = true;
            stream.Log.Connect = TimeSpan.Zero;
        }

        return new ValueTask<StepOutcome>(StepOutcome.Next);
    }

    /// <summary>Phase 4: a new server connection when no idle one was taken (with retries over the backend's servers); 503 (502 for TLS) when none answers.</summary>
    private async ValueTask<StepOutcome> ConnectAsync(HttpStream stream)
    {
        if (stream.Server is not null)
        {
            return StepOutcome.Next;
        }

        long start = Stopwatch.GetTimestamp();
        if (stream.Picked is { Protocol: ServerProtocol.Http2 } picked)
        {
            return await ConnectHttp2Async(stream, picked, null, start).ConfigureAwait(false);
        }

        ConnectResult result = await ConnectToAsync(stream).ConfigureAwait(false);
        stream.Log.Retries = result.Retries;
        if (result.Connection is not { } connection)
        {
            stream.Fail(result.Failure, result.Detail);

            // As HAProxy: a server that cannot be reached (none up, refused, no answer to the connect) is a 503; 502 is
            // kept for a server that answered badly (a failed or unverified TLS handshake included) or reset.
            return await SendErrorAsync(stream, result.Failure == SessionTermination.ServerHandshakeFailed ? 502 : 503, close: true).ConfigureAwait(false);
        }

        if (connection.Server.Protocol == ServerProtocol.Http2)
        {
            return await ConnectHttp2Async(stream, connection.Server, connection, start).ConfigureAwait(false);
        }

        stream.Server = connection;
        stream.Pooled = null;
        stream.ServerReused = false;
        stream.Log.Connect = Stopwatch.GetElapsedTime(start);
        return StepOutcome.Next;
    }

    /// <summary>
    /// Phase 5: the head and the first body bytes go in one write (again on a fresh connection if a reused one turns out
    /// closed); the rest of the body then flows autonomously while the response is awaited (100-continue, early answers).
    /// </summary>
    private async ValueTask<StepOutcome> ForwardRequestAsync(HttpStream stream)
    {
        stream.Log.Server = stream.Server!.Server;
        stream.ResponseByteMark = _response.TotalBytes;
        _deadlines.SetServer(stream.Backend!.Timeouts.Server);
        _serverIo = true;
        try
        {
            await stream.Server.Transport.SendAsync(stream.ServerOut.Written, Token).ConfigureAwait(false);
        }
        catch (Exception ex) when ((ex is SocketException or IOException) && stream.ServerReused && stream.Replayable)
        {
            if (!await ReplayOnFreshConnectionAsync(stream).ConfigureAwait(false))
            {
                throw;
            }
        }

        _deadlines.Phase = StreamPhase.ResponseHead;
        if (!stream.RequestBody.IsDone)
        {
            stream.RequestPump = _h2 is null ? RelayBodyAsync(stream, requestSide: true) : RelayHttp2RequestBodyAsync(stream);
            stream.Pumping = true;
        }

        return StepOutcome.Next;
    }

    /// <summary>The stream's selection, made at the pick (<see cref="MakeSelection"/>: the hash key of <c>uri</c> and <c>hash</c>, persistence).</summary>
    private static ServerSelection Selection(HttpStream stream) => stream.Selection;

    private static bool IsIdempotent(ReadOnlySpan<byte> method) =>
        method.SequenceEqual("GET"u8) || method.SequenceEqual("HEAD"u8) || method.SequenceEqual("OPTIONS"u8) ||
        method.SequenceEqual("PUT"u8) || method.SequenceEqual("DELETE"u8) || method.SequenceEqual("TRACE"u8);

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
}
