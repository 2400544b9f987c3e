using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;

namespace PluginProxy.Tcp;

/// <summary>
/// The held phase of a tcp session: read client data into the request channel and run the listener's request
/// analyzers in order until every one of them released it, within the request timeout and the read limit.
/// </summary>
internal static class RequestAnalysis
{
    /// <summary>True when the analyzers released the channel and the stream may go on to a server.</summary>
    public static async ValueTask<bool> RunAsync(ProxyStream stream, IReadOnlyList<IFlowAnalyzer> analyzers, Transport client, ILogger log)
    {
        ISession session = stream.Session;
        Channel channel = stream.Request;
        var chain = new AnalyzerChain();
        chain.BeginStream(analyzers, stream);
        chain.Begin(channel);
        TimeSpan? deadline = chain.HoldTimeout(session.Listener.Timeouts.Request, a => a is Tls.TlsSniAnalyzer ? session.Listener.Timeouts.ClientHandshake : null);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(session.Aborted);
        if (deadline is { } limit)
        {
            timeout.CancelAfter(limit);
        }

        try
        {
            while (true)
            {
                // Analyzers are called when new data is present (or the client closed): read first.
                if (channel.IsFull)
                {
                    session.Log.TrySetTermination(SessionTermination.BadRequest, $"the analyzers held {channel.Length} bytes, the read limit, without releasing them");
                    return false;
                }

                Memory<byte> space = channel.GetAppendBuffer(channel.ReadLimit - channel.Length);
                int n = await client.ReceiveAsync(space, timeout.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    // Let the analyzers decide once more with the close known: some can conclude on what they have.
                    channel.Flags |= ChannelFlags.InputEnded;
                }
                else
                {
                    channel.Advance(n);
                }

                switch (await chain.RunAsync(timeout.Token).ConfigureAwait(false))
                {
                    case ChainStep.Released:
                        return true;
                    case ChainStep.Failed:
                        string name = session.DescribeAnalyzer(chain.Current!);
                        Exception ex = chain.Failure!;
                        // An AnalyzerException (a script that threw) already says where and what.
                        session.Log.TrySetTermination(SessionTermination.InternalError,
                            ex is AnalyzerException ? ex.Message : $"analyzer #{chain.CurrentIndex + 1}, {name}, threw {ex.GetType().Name}: {ex.Message}");
                        TcpLog.AnalyzerThrew(log, ex, session.Id, chain.CurrentIndex + 1, name);
                        return false;
                    case ChainStep.Stopped:
                        AnalyzerReply reply = chain.Verdict.Reply!;
                        await SendReplyAsync(client, reply).ConfigureAwait(false);
                        session.Log.TrySetTermination(SessionTermination.AnalyzerStopped, $"analyzer #{chain.CurrentIndex + 1} stopped the stream ({reply.Status})");
                        return false;
                }

                if (channel.InputEnded)
                {
                    session.Log.TrySetTermination(SessionTermination.ClientAborted, "the client closed before the analyzers released the request");
                    return false;
                }
            }
        }
        catch (OperationCanceledException) when (!session.Aborted.IsCancellationRequested)
        {
            if (chain.Current is Tls.TlsSniAnalyzer)
            {
                session.Log.TrySetTermination(SessionTermination.HandshakeFailed, $"no complete TLS ClientHello within {deadline?.TotalMilliseconds:0}ms");
            }
            else
            {
                session.Log.TrySetTermination(SessionTermination.RequestTimeout, $"the analyzers did not release the request within {deadline?.TotalMilliseconds:0}ms");
            }

            return false;
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            session.Log.TrySetTermination(SessionTermination.ClientAborted, TcpRelay.Describe(ex));
            return false;
        }
    }

    private static async ValueTask SendReplyAsync(Transport client, AnalyzerReply reply)
    {
        if (reply.Body.IsEmpty)
        {
            return;
        }

        try
        {
            await client.SendAsync(reply.Body).ConfigureAwait(false);
            await LingeringClose.DrainAsync(client).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            // The client left already; the session ends either way.
        }
    }
}
