using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Http.Codec.H1;

namespace PluginProxy.Http.Engine;

/// <summary>What the proxy answers itself: error pages, analyzers' replies, timeouts.</summary>
internal sealed partial class HttpConnection
{
    /// <summary>
    /// Sends one of the proxy's own error pages. With <paramref name="close"/>, the client connection ends after it
    /// (with a lingering close, so unread request bytes cannot turn the page into a reset).
    /// </summary>
    private async ValueTask<StepOutcome> SendErrorAsync(HttpStream stream, int status, bool close)
    {
        if (AfterResponseAnalyzers.Count > 0 || _h2 is not null)
        {
            // The listener's after-response analyzers run on every response the client gets: send the page as a reply
            // (an HTTP/2 client gets it as a reply on its stream).
            return await SendReplyAsync(stream, ErrorPages.Reply(status), close, headRequest: _h2 is not null && stream.IsHeadRequest).ConfigureAwait(false);
        }

        stream.Log.Status = status;
        stream.ResponseStarted = true;
        byte[] page = ErrorPages.Get(status, close);
        try
        {
            // Not cancellable: the connection's token may be cancelled already (a timeout answer); the page is small.
            await _client.SendAsync(page).ConfigureAwait(false);
            stream.Log.BytesOut += page.Length;
            if (close)
            {
                await LingeringClose.DrainAsync(_client).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or IOException)
        {
            // The client is gone; the stream ends either way.
            return StepOutcome.Close;
        }

        return close ? StepOutcome.Close : StepOutcome.KeepAlive;
    }

    /// <summary>A request analyzer stopped the stream: with a check's error (413 for max_request_body, ...) or its own reply.</summary>
    private ValueTask<StepOutcome> AnswerRequestStopAsync(HttpStream stream, AnalyzerReply reply)
    {
        if (ErrorReplies.IsErrorReply(reply, out string? detail))
        {
            stream.Fail(reply.Status >= 500 ? SessionTermination.InternalError : SessionTermination.BadRequest, detail);
            return SendErrorAsync(stream, reply.Status, close: true);
        }

        stream.Fail(SessionTermination.AnalyzerStopped, $"request analyzer replied {reply.Status}");
        bool close = reply.Close || stream.CloseClient || stream.RequestFacts.WantsClose || stream.Exchange.Request.HasBody;
        if (!close)
        {
            _request.Consume(stream.RequestFacts.HeadLength);
        }

        return SendReplyAsync(stream, reply, close, stream.IsHeadRequest);
    }

    /// <summary>A response analyzer stopped the stream: with a check's error, or a reply replacing the server's response.</summary>
    private ValueTask<StepOutcome> AnswerResponseStopAsync(HttpStream stream, AnalyzerReply reply)
    {
        CloseServer(stream);
        if (ErrorReplies.IsErrorReply(reply, out string? detail))
        {
            stream.Fail(SessionTermination.BadResponse, detail);
            return SendErrorAsync(stream, reply.Status, close: true);
        }

        stream.Fail(SessionTermination.AnalyzerStopped, $"response analyzer replied {reply.Status}");
        return SendReplyAsync(stream, reply, reply.Close || stream.CloseClient, stream.IsHeadRequest);
    }

    /// <summary>An analyzer (a plugin or a script) threw: only this stream ends, with a 500.</summary>
    private ValueTask<StepOutcome> AnswerAnalyzerFailureAsync(HttpStream stream, AnalyzerChain chain, string side)
    {
        string name = _session.DescribeAnalyzer(chain.Current!);
        Exception ex = chain.Failure!;
        Log.LogError(ex, "Session {Session}: {Side} analyzer {Analyzer} threw", _session.Id, side, name);
        stream.Log.FailedAnalyzer = name;
        stream.Fail(SessionTermination.InternalError, ex is AnalyzerException ? ex.Message : $"{name} threw {ex.GetType().Name}: {ex.Message}");
        if (chain == stream.ResponseChain)
        {
            CloseServer(stream);
        }

        return SendErrorAsync(stream, 500, close: true);
    }

    /// <summary>Sends a reply an analyzer or script built (deny, redirect, a page of its own).</summary>
    private async ValueTask<StepOutcome> SendReplyAsync(HttpStream stream, AnalyzerReply reply, bool close, bool headRequest)
    {
        reply = await AfterProxyReplyAsync(stream, reply).ConfigureAwait(false);
        if (_h2 is not null)
        {
            return await SendHttp2ReplyAsync(stream, reply, headRequest).ConfigureAwait(false);
        }

        close |= reply.Close;
        stream.Log.Status = reply.Status;
        stream.ResponseStarted = true;
        ReplyWriter.Write(stream.ClientOut, reply, close, headRequest);
        try
        {
            await _client.SendAsync(stream.ClientOut.Written).ConfigureAwait(false);
            stream.Log.BytesOut += stream.ClientOut.Length;
            if (close)
            {
                await LingeringClose.DrainAsync(_client).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or IOException)
        {
            return StepOutcome.Close;
        }

        return close ? StepOutcome.Close : StepOutcome.KeepAlive;
    }

    /// <summary>A deadline passed (the connection's pending operations were cancelled): answer when HTTP allows, and end.</summary>
    private async ValueTask AnswerTimeoutAsync(HttpStream stream)
    {
        StreamPhase phase = _deadlines.Phase;
        switch (_deadlines.Expired)
        {
            case ConnectionDeadlines.Client when phase == StreamPhase.RequestHead:
                stream.Fail(SessionTermination.RequestTimeout, "the request head did not arrive within timeout_request");
                await SendErrorAsync(stream, 408, close: true).ConfigureAwait(false);
                break;
            case ConnectionDeadlines.Client when phase == StreamPhase.AnalyzeRequest:
                stream.Fail(SessionTermination.RequestTimeout, $"request analyzer {DescribeCurrent(stream.RequestChain)} held the request past its timeout");
                await SendErrorAsync(stream, 408, close: true).ConfigureAwait(false);
                break;
            case ConnectionDeadlines.Client:
                stream.Fail(SessionTermination.ClientTimeout, null);
                break;
            case ConnectionDeadlines.Server when !stream.ResponseStarted:
                stream.Fail(SessionTermination.ServerTimeout, phase == StreamPhase.AnalyzeResponse
                    ? $"response analyzer {DescribeCurrent(stream.ResponseChain)} held the response past its timeout"
                    : "no response head within timeout_server");
                CloseServer(stream);
                await SendErrorAsync(stream, 504, close: true).ConfigureAwait(false);
                break;
            case ConnectionDeadlines.Server:
                stream.Fail(SessionTermination.ServerTimeout, null);
                break;
            default:
                stream.Fail(SessionTermination.Shutdown, null);
                break;
        }
    }

    private string DescribeCurrent(AnalyzerChain chain) => chain.Current is { } analyzer ? _session.DescribeAnalyzer(analyzer) : "-";
}
