using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;
using PluginProxy.Http.Codec;
using PluginProxy.Http.Codec.H1;

namespace PluginProxy.Http.Engine;

/// <summary>The response phases: read the response head, analyze the response, forward the body; then the end of the request body.</summary>
internal sealed partial class HttpConnection
{
    /// <summary>
    /// Phase 6: the codec reads the response head. Interim heads never reach the analyzers: 100 and 103 go to HTTP/1.1
    /// clients as received, 101 turns the connection into a tunnel (when the client asked to upgrade).
    /// </summary>
    /// <param name="stream">The stream.</param>
    /// <param name="answerArrived">True when the caller waited for the server and saw bytes (or the end) arrive: read at once.</param>
    private async ValueTask<StepOutcome> ReadResponseHeadAsync(HttpStream stream, bool answerArrived)
    {
        HttpExchange exchange = stream.Exchange;
        ResponseFacts facts = stream.ResponseFacts;
        while (true)
        {
            facts.Reset();
            DecodeStatus status;
            HttpParseError error;
            while ((status = Http1Decoder.DecodeResponse(_response, facts, ref stream.ResponseHead, exchange.Response, out error)) == DecodeStatus.NeedMore)
            {
                // A reused connection that the server closed before answering anything gets the request again on a
                // fresh one (once); the read then starts over.
                int n;
                bool failed = false;
                bool timedOut = false;
                _serverIo = true;
                try
                {
                    if (_response.Length == 0 && !answerArrived)
                    {
                        // Wait for the server without holding a buffer: with hundreds of streams waiting at once, rented
                        // buffers outnumber what the shared pool keeps, and every one of them would be a new array. (On a
                        // plain socket the phases waited already for the first bytes: answerArrived.)
                        await stream.Server!.Transport.WaitForDataAsync(Token).ConfigureAwait(false);
                    }

                    answerArrived = false;
                    n = await stream.Server!.Transport.ReceiveAsync(_response.GetAppendBuffer(HeadReadSize), Token).ConfigureAwait(false);
                }
                catch (Exception ex) when ((ex is SocketException or IOException) && (CanReplayOnFreshConnection(stream) || MayRetryEmpty(stream)))
                {
                    n = 0;
                    failed = true;
                }
                catch (OperationCanceledException) when (_deadlines.Expired == ConnectionDeadlines.Server && NothingAnswered(stream) && MayRetry(stream, RetryConditions.ResponseTimeout))
                {
                    n = 0;
                    timedOut = true;
                }

                if (!timedOut && n == 0 && CanReplayOnFreshConnection(stream) && await ReplayOnFreshConnectionAsync(stream).ConfigureAwait(false))
                {
                    continue;
                }

                // retry_on "empty-response" and "response-timeout": the request goes again (to another server).
                if ((timedOut || (n == 0 && MayRetryEmpty(stream)))
                    && await TryRetryAsync(stream, timedOut ? "gave no response within timeout_server" : "closed without a response", timedOut).ConfigureAwait(false) is { } retried)
                {
                    if (retried != StepOutcome.Next)
                    {
                        return retried;
                    }

                    continue;
                }

                if (timedOut)
                {
                    throw new OperationCanceledException(Token);
                }

                if (failed)
                {
                    throw new SocketException((int)SocketError.ConnectionReset);
                }

                MarkReceived(_response, n);
            }

            if (status == DecodeStatus.Failed)
            {
                stream.Fail(SessionTermination.BadResponse, HttpParseErrors.Describe(error));
                CloseServer(stream);
                return await SendErrorAsync(stream, 502, close: true).ConfigureAwait(false);
            }

            if (facts.Status >= 200)
            {
                // retry_on "502", "503", "504", "all-5xx": the answer is dropped and the request goes again.
                if (MayRetry(stream, RetryConditions.None, facts.Status)
                    && await TryRetryAsync(stream, $"answered {facts.Status}").ConfigureAwait(false) is { } retried)
                {
                    if (retried != StepOutcome.Next)
                    {
                        return retried;
                    }

                    continue;
                }

                EndRetry(stream);
                exchange.HasResponse = true;
                return StepOutcome.Next;
            }

            _response.Consume(facts.HeadLength);
            if (facts.Status == 101)
            {
                return await SwitchProtocolsAsync(stream).ConfigureAwait(false);
            }

            if (_h2 is not null)
            {
                // 100 Continue, 103 Early Hints: an HTTP/2 client gets them as interim heads on its stream.
                _deadlines.SetClient(_settings.Timeouts.Client);
                _serverIo = false;
                await _h2.WriteResponseHeadAsync(exchange.Response, endStream: false, Token).ConfigureAwait(false);
            }
            else if (exchange.Request.Version == HttpProtocol.Http11)
            {
                // 100 Continue, 103 Early Hints: passed on to HTTP/1.1 clients (HTTP/1.0 ones do not know them).
                stream.ClientOut.Start(facts.HeadLength + 64);
                HeadWriter.WriteInterim(stream.ClientOut, facts, stream.ResponseHead);
                _deadlines.SetClient(_settings.Timeouts.Client);
                _serverIo = false;
                await _client.SendAsync(stream.ClientOut.Written, Token).ConfigureAwait(false);
                stream.Log.BytesOut += stream.ClientOut.Length;
            }

            stream.ResponseByteMark = _response.TotalBytes;
        }
    }

    /// <summary>
    /// Phase 7: the response analyzers (http_lb_resp first unless placed) hold the response channel until they release
    /// it, each for at most its own timeout (else the backend's <c>timeout_server</c>) from the response head.
    /// </summary>
    private async ValueTask<StepOutcome> AnalyzeResponseAsync(HttpStream stream)
    {
        _deadlines.Phase = StreamPhase.AnalyzeResponse;
        long since = Environment.TickCount64;
        stream.ResponseChain.Begin(_response);
        while (true)
        {
            _deadlines.SetServerFrom(since, stream.ResponseChain.HoldTimeout(stream.Backend!.Timeouts.Server));
            switch (await stream.ResponseChain.RunAsync(Token).ConfigureAwait(false))
            {
                case ChainStep.Released:
                    return StepOutcome.Next;
                case ChainStep.Stopped:
                    return await AnswerResponseStopAsync(stream, stream.ResponseChain.Verdict.Reply!).ConfigureAwait(false);
                case ChainStep.Failed:
                    return await AnswerAnalyzerFailureAsync(stream, stream.ResponseChain, "response").ConfigureAwait(false);
            }

            if (_response.InputEnded || _response.IsFull)
            {
                stream.Fail(SessionTermination.BadResponse, $"{_session.DescribeAnalyzer(stream.ResponseChain.Current!)} wanted more of the response than "
                    + (_response.IsFull ? "the read limit holds" : "the server sent"));
                CloseServer(stream);
                return await SendErrorAsync(stream, 502, close: true).ConfigureAwait(false);
            }

            // The server answered already (a head arrived): no replay is possible any more, a plain read.
            _serverIo = true;
            MarkReceived(_response, await stream.Server!.Transport.ReceiveAsync(_response.GetAppendBuffer(HeadReadSize), Token).ConfigureAwait(false));
        }
    }

    /// <summary>
    /// Phase 8: the response head (as analyzers left it) and the body bytes already here go to the client in one write;
    /// the rest of the body follows autonomously, framed exactly, so a pipelined response never leaks into this one.
    /// </summary>
    private async ValueTask<StepOutcome> ForwardBodyAsync(HttpStream stream)
    {
        if (_response.IsHeld)
        {
            throw new InvalidOperationException("the response channel is still held by its analyzers");
        }

        if (PrepareResponse(stream) is var framing and not HttpParseError.None)
        {
            stream.Fail(SessionTermination.BadResponse, HttpParseErrors.Describe(framing));
            CloseServer(stream);
            return await SendErrorAsync(stream, 502, close: true).ConfigureAwait(false);
        }

        _deadlines.SetClient(_settings.Timeouts.Client);
        _serverIo = false;
        if (stream.ResponseBody.IsDone)
        {
            ReturnAnsweredServer(stream);
        }

        if (_h2 is null)
        {
            await _client.SendAsync(stream.ClientOut.Written, Token).ConfigureAwait(false);
        }
        else
        {
            await SendHttp2ResponseHeadAsync(stream).ConfigureAwait(false);
        }

        stream.Log.BytesOut += stream.ClientOut.Length;
        if (!stream.ResponseBody.IsDone)
        {
            BodyResult result = await (stream.Filtered is { Active: true }
                ? RelayFilteredBodyAsync(stream)
                : RelayBodyAsync(stream, requestSide: false)).ConfigureAwait(false);
            if (result != BodyResult.Complete)
            {
                RecordBodyFailure(stream, result, requestSide: false);
                return StepOutcome.Close;
            }

            ReturnAnsweredServer(stream);
        }

        if (_h2 is not null)
        {
            await EndHttp2ResponseAsync(stream).ConfigureAwait(false);
        }

        stream.Exchange.ResponseBody.Complete();
        stream.ServerReusable = ServerKeepsOpen(stream);
        return stream.CloseClient ? StepOutcome.Close : StepOutcome.KeepAlive;
    }

    /// <summary>
    /// A server connection whose whole answer is here goes back to the pool before the end of the answer goes to the
    /// client: the client's next request (an HTTP/2 client sends it on another stream as soon as it sees that end, while
    /// this one is still finishing) finds it there rather than opening another. Only when nothing else is on it: no
    /// request body still being sent and the server keeps it open (<see cref="ReturnServer"/> checks the rest).
    /// </summary>
    private void ReturnAnsweredServer(HttpStream stream)
    {
        if (!stream.Pumping && ServerKeepsOpen(stream))
        {
            ReturnServer(stream);
        }
    }

    /// <summary>True when the answer's framing and fields let the server connection carry another request.</summary>
    private static bool ServerKeepsOpen(HttpStream stream) => stream.ResponseBody.Kind != BodyKind.UntilClose && !stream.ResponseFacts.WantsClose;

    /// <summary>Gives the stream's server connection to the pool: an HTTP/1.1 one with no bytes past the answer.</summary>
    private void ReturnServer(HttpStream stream)
    {
        if (stream.Server is not (null or Upstream.Http2StreamConnection) && _response.Length == 0)
        {
            _owner.Pool.Return(stream.Server, stream.Pooled);
            stream.Server = null;
            stream.Pooled = null;
        }
    }

    /// <summary>Decides how the body is framed for the client, and writes the head with the body bytes already received into the client output.</summary>
    private HttpParseError PrepareResponse(HttpStream stream)
    {
        HttpResponseHead response = stream.Exchange.Response;
        ResponseFacts facts = stream.ResponseFacts;
        bool clientIsHttp10 = stream.Exchange.Request.Version == HttpProtocol.Http10;
        _deadlines.Phase = StreamPhase.ResponseBody;
        stream.Log.ResponseHead = Stopwatch.GetTimestamp();
        stream.Log.Status = response.Status;
        stream.ServerOut.ReleaseIfLarger(KeptOutput);
        BodyKind kind = stream.IsHeadRequest || response.Status is 204 or 304 ? BodyKind.None
            : facts.Chunked ? BodyKind.Chunked
            : facts.ContentLength >= 0 ? BodyKind.Length
            : BodyKind.UntilClose;
        // A body filter an analyzer installed gets the data alone; its output goes to an HTTP/1.1 client in chunks.
        bool chunkOut = !clientIsHttp10 && _h2 is null;
        bool filtered = stream.Exchange.ResponseBodyFilter is not null && TakeBodyFilter(stream, kind, chunkOut);
        chunkOut &= filtered;
        // HTTP/1.0 clients cannot read chunked coding, and HTTP/2 frames the data itself.
        bool dechunk = kind == BodyKind.Chunked && (clientIsHttp10 || _h2 is not null || filtered);
        stream.CloseClient |= kind == BodyKind.UntilClose || (dechunk && !chunkOut) || (filtered && clientIsHttp10) || Stopping;
        stream.Exchange.ResponseBody.Start(kind switch { BodyKind.None => 0, BodyKind.Length when !filtered => facts.ContentLength, _ => null });
        stream.ResponseBody.Start(kind, Math.Max(facts.ContentLength, 0), dechunk, kind == BodyKind.Chunked ? stream.Exchange.ResponseBody.Trailers : null);
        _response.Consume(facts.HeadLength);

        Persist(stream);
        OutputBuffer output = stream.ClientOut;
        output.Start(facts.HeadLength + 256 + Math.Min(_response.Length, _bodyLimit));
        if (_h2 is null)
        {
            // An HTTP/2 client gets the head in a HEADERS frame; the output then holds only body bytes.
            var options = new HeadWriter.ResponseOptions(stream.CloseClient, clientIsHttp10, dechunk, Switching: false, ChunkBody: chunkOut);
            HeadWriter.WriteResponse(output, response, facts, stream.ResponseHead, options);
        }

        HttpParseError error = filtered ? AppendFilteredBody(stream, output) : AppendBody(output, _response, ref stream.ResponseBody, _bodyLimit);
        if (error == HttpParseError.None)
        {
            stream.ResponseStarted = true;
        }

        return error;
    }

    /// <summary>
    /// After the last phase (or an answer, or an error): a request body still flowing is stopped when the exchange
    /// ended without it, and its outcome observed; a server connection still fit for reuse goes back to the pool.
    /// </summary>
    private async ValueTask<StepOutcome> FinishStreamAsync(HttpStream stream, StepOutcome outcome)
    {
        // One place for what the message says went through, whether a body left in the first write or was relayed.
        stream.Exchange.ResponseBody.SetTransferred(stream.ResponseBody.BodyBytes);
        if (stream.Pumping)
        {
            stream.Pumping = false;
            if (!stream.RequestPump.IsCompleted)
            {
                // The server (or the proxy) answered before the whole request body arrived: stop forwarding it; close both sides.
                outcome = StepOutcome.Close;
                stream.ServerReusable = false;
                AbortRequestBody(stream);
            }

            BodyResult body = await ObserveAsync(stream.RequestPump).ConfigureAwait(false);
            if (body != BodyResult.Complete)
            {
                outcome = StepOutcome.Close;
                stream.ServerReusable = false;
                RecordBodyFailure(stream, body, requestSide: true);
            }
            else
            {
                stream.Exchange.RequestBody.Complete();
            }
        }

        stream.Exchange.RequestBody.SetTransferred(stream.RequestBody.BodyBytes);

        if (stream.ServerReusable)
        {
            ReturnServer(stream);
        }

        return outcome;
    }
}
