using System.Buffers;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;
using PluginProxy.Http.Codec;
using PluginProxy.Http.Codec.H1;
using PluginProxy.Http.Engine.H2;

namespace PluginProxy.Http.Engine;

/// <summary>
/// The HTTP/2 client side of the phases: one object runs one stream of an HTTP/2 connection (<see cref="Http2ServerStream"/>)
/// through the same phases as an HTTP/1.x request. Only the edges differ: the request head comes decoded from HPACK, the
/// request body from DATA frames (to an HTTP/1.1 server with its length, or in chunked coding), and the response goes
/// out as a HEADERS frame, DATA frames (de-chunked) and trailers.
/// </summary>
internal sealed partial class HttpConnection
{
    /// <summary>Cancels this runner's pending operations when its stream is aborted (made once per runner).</summary>
    private Action? _abortDeadlines;

    /// <summary>The response head's fields, filled again for each stream this object runs.</summary>
    private Http2FieldList? _h2Fields;

    /// <summary>The runners this one belongs to, when it runs HTTP/2 streams (it goes back to them after each).</summary>
    private Http2StreamRunners? _runners;

    /// <summary>A runner of the HTTP/2 streams of <paramref name="session"/>, one at a time (see <see cref="Http2StreamRunners"/>).</summary>
    public static HttpConnection ForHttp2(HttpSupervisor owner, ISession session, Http2StreamRunners runners) => new(owner, session, null) { _runners = runners };

    /// <summary>
    /// Starts one HTTP/2 stream through the phases (<see cref="RunStreamPhasesAsync"/>), which log it, give this runner
    /// back to its runners when nothing of the stream can reach the next one (no deadline passed, the client's reset did
    /// not fire meanwhile), and tell the connection the stream is done (<see cref="Http2ServerStream.HandlerFinished"/>):
    /// the phases' state machine is the only one a stream has. Never throws.
    /// </summary>
    public void StartHttp2Stream(Http2ServerStream h2)
    {
        HttpStream stream;
        try
        {
            BeginHttp2Stream(h2);
            stream = BeginStream();
        }
        catch (Exception e)
        {
            FinishHttp2Stream(h2, null, StepOutcome.Close, e);
            return;
        }

        _ = RunStreamPhasesAsync(stream);
    }

    /// <summary>The end of an HTTP/2 stream, from its phases: logged, this runner kept or dropped, the connection told.</summary>
    /// <param name="broken">What a bug threw (the phases answer what the network and the analyzers do), or null.</param>
    private void FinishHttp2Stream(Http2ServerStream h2, HttpStream? stream, StepOutcome outcome, Exception? broken)
    {
        try
        {
            if (broken is null && stream is not null)
            {
                EndStream(stream, outcome);
            }
        }
        catch (Exception e)
        {
            broken = e;
        }

        try
        {
            if (EndHttp2Stream(h2) && broken is null)
            {
                _runners!.Return(this);
            }
        }
        catch (Exception e)
        {
            broken ??= e;
        }

        if (broken is not null && (broken is not OperationCanceledException || !h2.IsAborted))
        {
            // This stream is reset, the connection goes on.
            _owner.Logger.LogDebug(broken, "HTTP/2 stream {Stream} failed", h2.Id);
        }

        h2.HandlerFinished(failed: broken is not null);
    }

    private void BeginHttp2Stream(Http2ServerStream h2)
    {
        _h2 = h2;

        // The phase is set before the heartbeat looks: an HTTP/2 stream is never idle (its connection is).
        _deadlines.Phase = StreamPhase.RequestHead;
        _ = _deadlines.Token;
        _request.Flags = ChannelFlags.None;
        _response.Flags = ChannelFlags.None;
        _owner.Timeouts.Add(_deadlines);
        h2.ObserveAbort(_abortDeadlines ??= _deadlines.Abort);
    }

    /// <summary>Lets go of the stream; true when this runner may serve another one (it then points at no analyzer).</summary>
    private bool EndHttp2Stream(Http2ServerStream h2)
    {
        bool reusable = h2.TakeAbortObserver() && _deadlines.Expired == ConnectionDeadlines.None;
        _owner.Timeouts.Remove(_deadlines);
        ReleaseStream();
        _request.Release();
        _response.Release();
        _lease?.Dispose();
        _lease = null;
        _h2 = null;
        if (!reusable)
        {
            _deadlines.Dispose();
            return false;
        }

        // A kept runner points at no analyzer: an idle connection must not keep a replaced plugin or script loaded.
        _deadlines.Clear();
        ForgetAnalyzers();
        return true;
    }

    /// <summary>Phase 1 for HTTP/2: the head is decoded and checked already; its path is normalised as an HTTP/1.1 target is.</summary>
    private ValueTask<StepOutcome> LoadHttp2RequestAsync(HttpStream stream)
    {
        HttpExchange exchange = stream.Exchange;
        HttpRequestHead request = exchange.Request;
        exchange.HasRequest = true;
        stream.RequestFacts.Version = HttpProtocol.Http2;
        stream.RequestFacts.ContentLength = request.ContentLength ?? -1;
        exchange.RequestBody.Start(request.HasBody ? request.ContentLength : 0);
        if (NormalizePath(request) is var error and not HttpParseError.None)
        {
            stream.Fail(SessionTermination.BadRequest, HttpParseErrors.Describe(error));
            return SendErrorAsync(stream, 400, close: true);
        }

        return new ValueTask<StepOutcome>(StepOutcome.Next);
    }

    /// <summary>Normalises the path of <c>:path</c> (RFC 3986 dot-segments, escapes; docs/http.md), as the HTTP/1.1 codec does.</summary>
    private static HttpParseError NormalizePath(HttpRequestHead request)
    {
        ReadOnlySpan<byte> target = request.RawTarget;
        if (target.Length == 0 || target[0] != '/')
        {
            // "*" (OPTIONS) and CONNECT's authority have no path.
            return HttpParseError.None;
        }

        int question = target.IndexOf((byte)'?');
        ReadOnlySpan<byte> path = question < 0 ? target : target[..question];
        if (!PathNormalizer.NeedsWork(path))
        {
            return HttpParseError.None;
        }

        byte[] scratch = ArrayPool<byte>.Shared.Rent(path.Length);
        try
        {
            HttpParseError error = PathNormalizer.Normalize(path, scratch, out int length);
            if (error == HttpParseError.None && !scratch.AsSpan(0, length).SequenceEqual(path))
            {
                request.Path = Encoding.ASCII.GetString(scratch, 0, length);
            }

            return error;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>The body bytes analyzers read already, as chunks; the last chunk too when the stream ended.</summary>
    private void AppendChunked(HttpStream stream, OutputBuffer output)
    {
        if (_request.Length > 0)
        {
            ReadOnlySpan<byte> data = _request.Data.Span;
            stream.RequestBody.Next(data, out int consumed, out _);
            ChunkWriter.Write(output, data);
            _request.Consume(consumed);
        }

        if (_request.InputEnded)
        {
            ChunkWriter.WriteLast(output, _h2!.RequestTrailers);
            stream.RequestBody.EndOfInput();
        }
    }

    /// <summary>
    /// The rest of an HTTP/2 request body, autonomously, beside the response: DATA as it is read (which opens the client's
    /// window again) goes to the server as is (a known length) or as one chunk per read; the end of the stream ends it.
    /// </summary>
    private async ValueTask<BodyResult> RelayHttp2RequestBodyAsync(HttpStream stream)
    {
        const int Room = ChunkWriter.Room;
        Transport to = stream.Server!.Transport;
        long maxBody = _options.MaxRequestBody ?? -1;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(_bodyLimit + Room + 2);
        _request.Flags |= ChannelFlags.Autonomous;
        bool reading = true;
        try
        {
            while (true)
            {
                reading = true;
                _deadlines.SetClient(_settings.Timeouts.Client);
                int n = await _h2!.ReadBodyAsync(buffer.AsMemory(Room, _bodyLimit), Token).ConfigureAwait(false);
                reading = false;
                if (n == 0)
                {
                    if (stream.ChunkRequestBody)
                    {
                        var end = new OutputBuffer();
                        end.Start(64);
                        ChunkWriter.WriteLast(end, _h2.RequestTrailers);
                        await to.SendAsync(end.Written, Token).ConfigureAwait(false);
                        end.Release();
                    }

                    return stream.RequestBody.EndOfInput() ? BodyResult.Complete : BodyResult.SourceClosed;
                }

                stream.RequestBody.Next(buffer.AsSpan(Room, n), out _, out _);
                if (maxBody >= 0 && stream.RequestBody.BodyBytes > maxBody)
                {
                    return BodyResult.TooLarge;
                }

                int start = Room;
                int length = n;
                if (stream.ChunkRequestBody)
                {
                    // The chunk-size line goes just before the data, the CRLF just after: one send per read.
                    (start, length) = ChunkWriter.Frame(buffer, n);
                }

                _deadlines.SetServer(stream.Backend!.Timeouts.Server);
                await to.SendAsync(buffer.AsMemory(start, length), Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or IOException)
        {
            return reading ? BodyResult.SourceFailed : BodyResult.DestinationFailed;
        }
        finally
        {
            _request.Flags &= ~ChannelFlags.Autonomous;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>True when the response data sent now ends the stream: the body is complete and no trailers follow.</summary>
    private static bool EndsWithData(HttpStream stream) => stream.ResponseBody.IsDone && !stream.Exchange.ResponseBody.HasTrailers;

    /// <summary>The response head as a HEADERS frame, then the body bytes that came with it (<c>ClientOut</c>).</summary>
    private async ValueTask SendHttp2ResponseHeadAsync(HttpStream stream)
    {
        OutputBuffer output = stream.ClientOut;
        bool headEnds = output.Length == 0 && EndsWithData(stream);
        await _h2!.WriteResponseHeadAsync(stream.Exchange.Response, headEnds, dataFollows: output.Length > 0, Token, _h2Fields ??= new()).ConfigureAwait(false);
        if (output.Length > 0)
        {
            await _h2.WriteDataAsync(output.Written, EndsWithData(stream), Token).ConfigureAwait(false);
        }
    }

    /// <summary>Ends the response stream if the last data did not: with the server's trailers, or an empty DATA frame.</summary>
    private async ValueTask EndHttp2ResponseAsync(HttpStream stream)
    {
        if (_h2!.ResponseEnded)
        {
            return;
        }

        if (stream.Exchange.ResponseBody.HasTrailers)
        {
            await _h2.WriteTrailersAsync(stream.Exchange.ResponseBody.Trailers, Token).ConfigureAwait(false);
        }
        else
        {
            await _h2.WriteDataAsync(ReadOnlyMemory<byte>.Empty, endStream: true, Token).ConfigureAwait(false);
        }
    }

    /// <summary>A reply the proxy makes (an error page, an analyzer's answer) on the stream: the connection goes on.</summary>
    private async ValueTask<StepOutcome> SendHttp2ReplyAsync(HttpStream stream, AnalyzerReply reply, bool headRequest)
    {
        stream.Log.Status = reply.Status;
        stream.ResponseStarted = true;
        var fields = new List<KeyValuePair<string, string>>(reply.Headers.Count + 1);
        foreach (KeyValuePair<string, string> header in reply.Headers)
        {
            if (!header.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                fields.Add(header);
            }
        }

        fields.Add(new("content-length", reply.Body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        bool empty = headRequest || reply.Body.Length == 0;
        try
        {
            // Not the stream's token: it may be cancelled already (a timeout answer); the write deadline bounds this.
            await _h2!.WriteResponseHeadAsync(reply.Status, fields, endStream: empty).ConfigureAwait(false);
            if (!empty)
            {
                await _h2.WriteDataAsync(reply.Body, endStream: true).ConfigureAwait(false);
                stream.Log.BytesOut += reply.Body.Length;
            }
        }
        catch (Exception ex) when (IsConnectionEnd(ex))
        {
            // The client reset the stream or went away; the stream ends either way.
        }

        return StepOutcome.Close;
    }
}
