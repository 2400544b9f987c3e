using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Http.Engine.H2;

namespace PluginProxy.Http.Engine;

/// <summary>
/// The objects that run the streams of one HTTP/2 client connection through the phases (<see cref="HttpConnection"/>,
/// with their channels, deadlines and stream view), kept for the connection's next streams instead of made for each:
/// at most <see cref="MaxKept"/> (also while no stream is open: see <see cref="Http2ClientConnection"/>'s kept messages).
/// </summary>
internal sealed class Http2StreamRunners(HttpSupervisor owner, ISession session)
{
    private const int MaxKept = 16;

    private readonly Stack<HttpConnection> _idle = new();

    /// <summary>
    /// The handler of <see cref="Http2ClientConnection"/> (<see cref="Http2ClientConnection.HandlerFinishesStreams"/>):
    /// starts <paramref name="stream"/> on a kept runner or a new one, which finishes the stream at its end.
    /// </summary>
    public ValueTask RunAsync(Http2ServerStream stream)
    {
        HttpConnection? runner;
        lock (_idle)
        {
            _idle.TryPop(out runner);
        }

        try
        {
            runner ??= HttpConnection.ForHttp2(owner, session, this);
        }
        catch (Exception e)
        {
            // The runner finishes the stream it runs; one that could not be made finishes it here (reset).
            owner.Logger.LogDebug(e, "HTTP/2 stream {Stream}: no runner", stream.Id);
            stream.HandlerFinished(failed: true);
            return default;
        }

        runner.StartHttp2Stream(stream);
        return default;
    }

    /// <summary>Keeps <paramref name="runner"/> for a later stream, unless enough are kept.</summary>
    public void Return(HttpConnection runner)
    {
        lock (_idle)
        {
            if (_idle.Count < MaxKept)
            {
                _idle.Push(runner);
            }
        }
    }
}
