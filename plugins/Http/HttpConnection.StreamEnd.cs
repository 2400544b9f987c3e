using System.Diagnostics;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;

namespace PluginProxy.Http;

internal sealed partial class HttpConnection
{
    /// <summary>
    /// Tells the stream's end observers (the typed <see cref="IHttpLogger"/> phases listed for it) that it ended, with the
    /// fields the access log records. The entry is made only when some observer asked for it.
    /// </summary>
    private void NotifyStreamEnded(HttpStreamState state)
    {
        if (!_stream.HasEndObservers)
        {
            return;
        }

        bool parsed = state.Exchange.HasRequest;
        HttpRequestHead request = state.Exchange.Request;
        var entry = new HttpLogEntry
        {
            Started = _startWall,
            Listener = _settings.Name,
            Client = _session.Connection.ClientEndPoint,
            Method = parsed ? request.Method : null,
            Path = parsed ? request.Path : null,
            Query = parsed ? request.Query : null,
            Authority = parsed ? request.Authority : null,
            Status = _status,
            BytesToClient = _bytesOut,
            Termination = _end,
            Detail = _detail,
            Backend = _logBackend,
            Server = _logServer,
            Retries = _retries,
            RequestHeadTime = _tHead == 0 ? null : Stopwatch.GetElapsedTime(_tStart, _tHead),
            ConnectTime = _connectMs < 0 ? null : TimeSpan.FromMilliseconds(_connectMs),
            ResponseTime = _tResponse == 0 || _tHead == 0 ? null : Stopwatch.GetElapsedTime(_tHead, _tResponse),
            TotalTime = Stopwatch.GetElapsedTime(_tStart),
        };
        if (_stream.NotifyEnded(entry) is { } failure)
        {
            // A logger that fails loses its own entry; the stream has ended already and the connection goes on.
            Log.LogError(failure, "Session {Session}: a stream-end observer (an http logger) threw", _session.Id);
        }
    }
}
