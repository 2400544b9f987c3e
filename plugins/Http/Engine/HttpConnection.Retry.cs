using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;

namespace PluginProxy.Http.Engine;

/// <summary>
/// Retries with the backend's policy (<c>retry_on</c>, <c>redispatch</c>, <c>retries</c>, the retry budget): a
/// replayable request whose server answered a retried status, closed without a response or gave none within
/// <c>timeout_server</c> goes again, to another server when there is one. The failed server's answer is dropped with its
/// connection. Connection failures are retried by the connector.
/// </summary>
internal sealed partial class HttpConnection
{
    /// <summary>
    /// True when the policy retries <paramref name="condition"/> (or, for <see cref="RetryConditions.None"/>, a response
    /// of <paramref name="status"/>) and this stream may go again: replayable, nothing sent to the client yet, retries left.
    /// </summary>
    private static bool MayRetry(HttpStream stream, RetryConditions condition, int status = 0)
    {
        if (!stream.Replayable || stream.ResponseStarted || stream.Backend is not { } backend || stream.Log.Retries >= backend.Retries)
        {
            return false;
        }

        RetryPolicy policy = backend.RetryPolicy;
        return condition == RetryConditions.None ? policy.RetriesStatus(status) : policy.Retries(condition);
    }

    /// <summary>
    /// Sends the request again, if the retry budget allows: drops the failed server's connection (and what it answered),
    /// reports the failure for passive health checks, picks the next server, connects and forwards. Null when the budget
    /// refused (the caller goes on with the failure it has); else the outcome of the connect and forward phases
    /// (<see cref="StepOutcome.Next"/>: read the new server's response head).
    /// </summary>
    /// <param name="stream">The stream.</param>
    /// <param name="reason">What the server did, for passive health checks and the debug log.</param>
    /// <param name="timedOut">True when the server's deadline expired: it is armed again for the next server.</param>
    private async ValueTask<StepOutcome?> TryRetryAsync(HttpStream stream, string reason, bool timedOut = false)
    {
        IBackend backend = stream.Backend!;
        EndRetry(stream);
        if (!backend.TryBeginRetry())
        {
            stream.Log.Detail ??= $"not retried ({reason}): the retry budget of backend \"{backend.Name}\" is spent";
            return null;
        }

        stream.RetryHeld = true;
        if (timedOut && !_deadlines.TryRearmServer())
        {
            // The proxy is stopping or the client went away meanwhile: the timeout stands.
            EndRetry(stream);
            return null;
        }

        IServer? failed = stream.Server?.Server ?? stream.Log.Server;
        CloseServer(stream);
        _deadlines.SetServer(null);
        _deadlines.Phase = StreamPhase.Connecting;
        _response.Consume(_response.Length);
        _response.Flags &= ~ChannelFlags.InputEnded;
        IServer? next = failed;
        if (failed is not null)
        {
            backend.ReportFailure(failed, reason);
            (stream.TriedServers ??= []).Add(failed);
            // Another server with a free slot (maxconn) when there is one; else the server whose slot the stream holds.
            if (backend.RetryPolicy.Redispatch && backend.TryAcquireNow(Selection(stream), stream.TriedServers, out ServerLease moved))
            {
                stream.Slot.Release();
                stream.Slot = moved;
            }

            next = stream.Slot.Server ?? next;
        }

        Log.LogDebug("Session {Session}: {Server} {Reason}; request sent again to {Next}", _session.Id, failed?.Name ?? "-", reason, next?.Name ?? "the next server up");
        int retries = stream.Log.Retries + 1;
        stream.Picked = next;
        stream.Log.Retries = 0;
        StepOutcome outcome = await ConnectAsync(stream).ConfigureAwait(false);
        stream.Log.Retries += retries;
        return outcome != StepOutcome.Next ? outcome : await ForwardRequestAsync(stream).ConfigureAwait(false);
    }

    /// <summary>True when the server sent nothing since the request went out (on this connection).</summary>
    private bool NothingAnswered(HttpStream stream) => _response.TotalBytes == stream.ResponseByteMark;

    /// <summary>True when a server that closed or reset without a byte of response is retried (<c>empty-response</c>).</summary>
    private bool MayRetryEmpty(HttpStream stream) => NothingAnswered(stream) && !CanReplayOnFreshConnection(stream) && MayRetry(stream, RetryConditions.EmptyResponse);

    /// <summary>The retry this stream holds in its backend's budget is decided: it leaves the budget.</summary>
    private static void EndRetry(HttpStream stream)
    {
        if (stream.RetryHeld)
        {
            stream.RetryHeld = false;
            stream.Backend?.EndRetry();
        }
    }
}
