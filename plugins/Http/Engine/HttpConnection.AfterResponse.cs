using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;

namespace PluginProxy.Http.Engine;

/// <summary>
/// <c>after_response_analyzers</c> on the replies the proxy makes itself. A stopped stream (a deny, a redirect, a
/// script's answer) and an error page never pass through the response analyzers; the listener's after-response
/// analyzers still run on them, as HAProxy's <c>http-after-response</c> rules do, so that a header every response must
/// carry (HSTS, a request id) is on these too. On a server's response they simply run last among the response analyzers.
/// </summary>
internal sealed partial class HttpConnection
{
    /// <summary>
    /// Runs the after-response analyzers on <paramref name="reply"/>: it is loaded into <c>stream.Http.Response</c> (status,
    /// header fields; the response channel holds none of its bytes), the analyzers change it, and the reply to send is
    /// rebuilt from it. An analyzer that stops gives the reply to send instead, and no further one runs. One that throws is
    /// logged and the reply goes out as it was: a failing rule must not turn a deny into something else.
    /// </summary>
    private async ValueTask<AnalyzerReply> AfterProxyReplyAsync(HttpStream stream, AnalyzerReply reply)
    {
        IReadOnlyList<IFlowAnalyzer> analyzers = AfterResponseAnalyzers;
        if (analyzers.Count == 0)
        {
            return reply;
        }

        HttpResponseHead response = stream.Exchange.Response;
        byte[] reason = System.Text.Encoding.ASCII.GetBytes(Codec.H1.ErrorPages.Reason(reply.Status));
        response.Reset(reason, reply.Status, 0..reason.Length, HttpProtocol.Http11, reply.Body.Length);
        foreach (KeyValuePair<string, string> header in reply.Headers)
        {
            response.Headers.Add(header.Key, header.Value);
        }

        stream.Exchange.HasResponse = true;
        foreach (IFlowAnalyzer analyzer in analyzers)
        {
            AnalyzerVerdict verdict;
            try
            {
                verdict = await analyzer.AnalyzeAsync(_proxyStream, _response, Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.LogError(ex, "Session {Session}: after-response analyzer {Analyzer} threw on the proxy's {Status} reply, sent unchanged",
                    _session.Id, _session.DescribeAnalyzer(analyzer), reply.Status);
                return reply;
            }

            if (verdict.Action == AnalyzerAction.Stop)
            {
                return verdict.Reply!;
            }
        }

        var rebuilt = new AnalyzerReply(response.Status, reply.Body, [.. response.Headers]) { Close = reply.Close };
        if (stream.Exchange.ResponseBodyFilter is null)
        {
            return rebuilt;
        }

        try
        {
            return FilterReply(stream, rebuilt);
        }
        catch (Exception ex)
        {
            Log.LogError(ex, "Session {Session}: the response body filter an after-response analyzer installed threw on the proxy's {Status} reply, sent unchanged",
                _session.Id, reply.Status);
            return reply;
        }
    }
}
