using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;

namespace PluginProxy.Http;

internal sealed partial class HttpConnection
{
    /// <summary>
    /// Holds <paramref name="channel"/> and runs <paramref name="analyzers"/> in order each time new data is present, until
    /// every one released it (Continue or Bypass) or one stopped the stream. Analyzers that are done are not called again
    /// for this message; the one that asked for more data is called again when it arrived. For a response, analysis also
    /// ends after http_lb_resp parsed an interim (1xx) head: those go to the client unanalyzed.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<AnalyzerVerdict> AnalyzeAsync(IFlowAnalyzer[] analyzers, Channel channel, Socket source, bool response)
    {
        channel.Flags |= ChannelFlags.Hold;
        bool[] bypassed = _state!.Bypassed;
        if (bypassed.Length < analyzers.Length)
        {
            bypassed = _state.Bypassed = new bool[analyzers.Length];
        }

        Array.Clear(bypassed);
        int next = 0;
        bool read = channel.Length == 0;
        while (true)
        {
            if (read)
            {
                if (channel.IsFull)
                {
                    // An analyzer other than the parsers kept asking for more than the read limit holds.
                    return AnalyzerVerdict.Stop(ErrorReplies.For(response ? 502 : 413));
                }

                int n = await ReceiveForAnalysisAsync(channel, source, response).ConfigureAwait(false);
                if (n == 0)
                {
                    channel.Flags |= ChannelFlags.InputEnded;
                }
                else
                {
                    channel.Advance(n);
                }
            }

            read = true;
            for (; next < analyzers.Length; next++)
            {
                if (bypassed[next])
                {
                    continue;
                }

                AnalyzerVerdict verdict;
                try
                {
                    verdict = await analyzers[next].AnalyzeAsync(_stream, channel, Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // An analyzer (a plugin or a script) failed: only this stream ends, with a 500.
                    Log.LogError(ex, "Session {Session}: {Side} analyzer {Analyzer} threw", _session.Id, response ? "response" : "request", analyzers[next].GetType().FullName);
                    _end = SessionTermination.InternalError;
                    _detail = $"{analyzers[next].GetType().Name} threw {ex.GetType().Name}: {ex.Message}";
                    return AnalyzerVerdict.Stop(ErrorReplies.For(500));
                }

                switch (verdict.Action)
                {
                    case AnalyzerAction.NeedMoreData:
                        goto ReadMore;
                    case AnalyzerAction.Stop:
                        return verdict;
                    case AnalyzerAction.Bypass:
                        bypassed[next] = true;
                        break;
                }

                if (response && _state!.Exchange.HasResponse && _state.ResponseFacts.Status < 200)
                {
                    return AnalyzerVerdict.Continue;
                }
            }

            channel.Flags &= ~ChannelFlags.Hold;
            return AnalyzerVerdict.Continue;

        ReadMore:
            if (channel.InputEnded)
            {
                // The peer closed before the analyzers had what they wanted (the parsers report a truncated head themselves).
                return AnalyzerVerdict.Stop(ErrorReplies.For(response ? 502 : 400));
            }
        }
    }

    /// <summary>Reads more of a head. For a response, a reused connection that turns out closed is replaced once.</summary>
    private async ValueTask<int> ReceiveForAnalysisAsync(Channel channel, Socket source, bool response)
    {
        if (!response)
        {
            return await source.ReceiveAsync(channel.GetAppendBuffer(HeadReadSize), SocketFlags.None, Token).ConfigureAwait(false);
        }

        while (true)
        {
            int n;
            bool failed = false;
            try
            {
                n = await _server!.Socket.ReceiveAsync(channel.GetAppendBuffer(HeadReadSize), SocketFlags.None, Token).ConfigureAwait(false);
            }
            catch (SocketException) when (CanReplayOnFreshConnection(channel))
            {
                n = 0;
                failed = true;
            }

            if ((n == 0 || failed) && CanReplayOnFreshConnection(channel))
            {
                // The server closed an idle pooled connection just as we reused it: the request was not processed.
                if (await ReplayOnFreshConnectionAsync().ConfigureAwait(false))
                {
                    continue;
                }
            }

            if (failed)
            {
                throw new SocketException((int)SocketError.ConnectionReset);
            }

            return n;
        }
    }

    private bool CanReplayOnFreshConnection(Channel channel) => _serverReused && _replayable && channel.TotalBytes == _responseByteMark && _server is not null;
}
