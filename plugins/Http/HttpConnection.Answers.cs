using System.Net.Sockets;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;
using PluginProxy.Http.Forwarding;
using PluginProxy.Http.Parsing;

namespace PluginProxy.Http;

internal sealed partial class HttpConnection
{
    /// <summary>
    /// Sends one of the proxy's own error pages. With <paramref name="close"/>, the client connection ends after it
    /// (with a lingering close, so unread request bytes cannot turn the page into a reset). True when the connection stays open.
    /// </summary>
    private async ValueTask<bool> SendErrorAsync(int status, bool close)
    {
        if (_session.AfterResponseAnalyzers.Count > 0 && _state is not null)
        {
            // The listener's after-response analyzers run on every response the client gets: send the page as a reply.
            return await SendReplyAsync(ErrorPages.Reply(status), close, headRequest: false).ConfigureAwait(false);
        }

        _status = status;
        _responseStarted = true;
        byte[] page = ErrorPages.Get(status, close);
        try
        {
            // Not cancellable: the connection's token may be cancelled already (a timeout answer); the page is small.
            await _client.SendAsync(page).ConfigureAwait(false);
            _bytesOut += page.Length;
            if (close)
            {
                _closeClient = true;
                await LingeringClose.DrainAsync(_client).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or IOException)
        {
            // The client is gone; the stream ends either way.
            return false;
        }

        return !close;
    }

    /// <summary>A request analyzer stopped the stream: a parse error (400, 413, 414, 431, 501, ...) or an analyzer's reply.</summary>
    private async ValueTask<bool> AnswerRequestStopAsync(HttpStreamState state, AnalyzerReply reply)
    {
        if (state.RequestError == HttpParseError.Truncated)
        {
            _end = SessionTermination.ClientAborted;
            _detail = "the client closed before the end of the request head";
            return false;
        }

        if (state.RequestError != HttpParseError.None)
        {
            _end = SessionTermination.BadRequest;
            _detail = HttpParseErrors.Describe(state.RequestError);
            return await SendErrorAsync(reply.Status, close: true).ConfigureAwait(false);
        }

        if (ErrorReplies.IsErrorReply(reply))
        {
            if (_end == SessionTermination.Normal)
            {
                _end = reply.Status >= 500 ? SessionTermination.InternalError : SessionTermination.BadRequest;
            }

            return await SendErrorAsync(reply.Status, close: true).ConfigureAwait(false);
        }

        _end = SessionTermination.AnalyzerStopped;
        _detail = $"request analyzer replied {reply.Status}";
        bool parsed = state.Exchange.HasRequest;
        bool close = reply.Close || _closeClient || !parsed || state.Exchange.Request.HasBody || state.Exchange.Request.WantsClose;
        bool head = parsed && state.Exchange.Request.RawMethod.SequenceEqual("HEAD"u8);
        if (!close)
        {
            _request.Consume(state.RequestFacts.HeadLength);
        }

        return await SendReplyAsync(reply, close, head).ConfigureAwait(false);
    }

    /// <summary>A response analyzer stopped the stream: an invalid response (502), or an analyzer's reply replacing it.</summary>
    private async ValueTask<bool> AnswerResponseStopAsync(HttpStreamState state, AnalyzerReply reply)
    {
        CloseServer();
        if (state.ResponseError != HttpParseError.None)
        {
            _end = SessionTermination.BadResponse;
            _detail = HttpParseErrors.Describe(state.ResponseError);
            return await SendErrorAsync(502, close: true).ConfigureAwait(false);
        }

        if (ErrorReplies.IsErrorReply(reply))
        {
            if (_end == SessionTermination.Normal)
            {
                _end = SessionTermination.BadResponse;
            }

            return await SendErrorAsync(reply.Status, close: true).ConfigureAwait(false);
        }

        _end = SessionTermination.AnalyzerStopped;
        _detail = $"response analyzer replied {reply.Status}";
        bool head = state.Exchange.Request.RawMethod.SequenceEqual("HEAD"u8);
        return await SendReplyAsync(reply, reply.Close || _closeClient, head).ConfigureAwait(false);
    }

    /// <summary>Sends a reply an analyzer or script built (deny, redirect, a page of its own).</summary>
    private async ValueTask<bool> SendReplyAsync(AnalyzerReply reply, bool close, bool headRequest)
    {
        reply = await AfterProxyReplyAsync(reply).ConfigureAwait(false);
        close |= reply.Close;
        _status = reply.Status;
        _responseStarted = true;
        _state!.ClientOut.Start(256 + reply.Body.Length);
        _state!.ClientOut.Write("HTTP/1.1 "u8);
        _state!.ClientOut.WriteNumber(reply.Status);
        _state!.ClientOut.Write((byte)' ');
        _state!.ClientOut.WriteLatin1(ErrorPages.Reason(reply.Status));
        _state!.ClientOut.Write("\r\n"u8);
        foreach (KeyValuePair<string, string> header in reply.Headers)
        {
            if (header.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) || header.Key.Equals("Connection", StringComparison.OrdinalIgnoreCase)
                || header.Key.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            _state!.ClientOut.WriteLatin1(header.Key);
            _state!.ClientOut.Write(": "u8);
            _state!.ClientOut.WriteLatin1(header.Value);
            _state!.ClientOut.Write("\r\n"u8);
        }

        _state!.ClientOut.Write("Content-Length: "u8);
        _state!.ClientOut.WriteNumber(reply.Body.Length);
        _state!.ClientOut.Write(close ? "\r\nConnection: close\r\n\r\n"u8 : "\r\n\r\n"u8);
        if (!headRequest)
        {
            _state!.ClientOut.Write(reply.Body.Span);
        }

        try
        {
            await _client.SendAsync(_state!.ClientOut.Written).ConfigureAwait(false);
            _bytesOut += _state!.ClientOut.Length;
            if (close)
            {
                _closeClient = true;
                await LingeringClose.DrainAsync(_client).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or IOException)
        {
            return false;
        }

        return !close;
    }

    /// <summary>A timeout expired (the connection's pending operations were cancelled): answer when HTTP allows, and end.</summary>
    private async ValueTask AnswerTimeoutAsync()
    {
        switch (Volatile.Read(ref _expired))
        {
            case ExpiredClient when _phase == Phase.RequestHead:
                _end = SessionTermination.RequestTimeout;
                _detail = "the request head did not arrive within timeout_request";
                await SendErrorAsync(408, close: true).ConfigureAwait(false);
                break;
            case ExpiredClient:
                _end = SessionTermination.ClientTimeout;
                break;
            case ExpiredServer when !_responseStarted:
                _end = SessionTermination.ServerTimeout;
                _detail = "no response head within timeout_server";
                CloseServer();
                await SendErrorAsync(504, close: true).ConfigureAwait(false);
                break;
            case ExpiredServer:
                _end = SessionTermination.ServerTimeout;
                break;
            default:
                _end = SessionTermination.Shutdown;
                break;
        }
    }
}
