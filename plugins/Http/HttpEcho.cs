using System.Text;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;

namespace PluginProxy.Http;

/// <summary>
/// <c>http_echo</c>: answers every request itself, with the request head as this listener received it (method, target,
/// version, every header field, the client address), and never contacts a server. The default configuration's demo
/// service, so the proxy runs with nothing else installed; also a way to see what a client, or a proxy in front, sends.
/// </summary>
/// <remarks>
/// It reads only the head: a request body is not echoed, and the connection closes after answering a request that has
/// one (as after any reply that leaves a body unread).
/// </remarks>
public sealed class HttpEcho : IFlowAnalyzer
{
    /// <inheritdoc/>
    public ChannelDirection? Direction => ChannelDirection.Request;

    /// <inheritdoc/>
    public ValueTask<AnalyzerVerdict> AnalyzeAsync(ProxyStream stream, Channel channel, CancellationToken cancellationToken)
    {
        if (stream.Http is not { HasRequest: true } http)
        {
            // The codec decodes the request before any analyzer on an http listener; anywhere else there is no request to echo.
            return ValueTask.FromResult(AnalyzerVerdict.Stop(AnalyzerReply.Text(500, "http_echo needs a parsed HTTP request (an http listener)\n")));
        }

        HttpRequestHead request = http.Request;
        var text = new StringBuilder(512);
        text.Append("PluginProxy http_echo on listener \"").Append(stream.Session.Listener.Name).Append("\": the request as it arrived from ")
            .Append(LogNames.Format(stream.Session.Connection.ClientEndPoint)).Append(".\n\n");
        text.Append(request.Method).Append(' ').Append(request.Target).Append(request.Version == HttpProtocol.Http10 ? " HTTP/1.0\n" : " HTTP/1.1\n");
        foreach (KeyValuePair<string, string> header in request.Headers)
        {
            text.Append(header.Key).Append(": ").Append(header.Value).Append('\n');
        }

        if (request.HasBody)
        {
            text.Append("\n(a body of ").Append(request.ContentLength is { } length ? $"{length} bytes" : "unknown length").Append(", not echoed)\n");
        }

        var reply = new AnalyzerReply(200, Encoding.UTF8.GetBytes(text.ToString()), [new("Content-Type", "text/plain; charset=utf-8"), new("Cache-Control", "no-store")])
        {
            Close = false,
        };
        return ValueTask.FromResult(AnalyzerVerdict.Stop(reply));
    }
}
