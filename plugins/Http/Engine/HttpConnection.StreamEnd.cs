using System.Diagnostics;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;

namespace PluginProxy.Http.Engine;

internal sealed partial class HttpConnection
{
    /// <summary>
    /// Tells the stream's end observers (the typed <see cref="IHttpLogger"/> phases listed for it) that it ended, with the
    /// fields the access log records. The entry is made only when some observer asked for it.
    /// </summary>
    private void NotifyStreamEnded(HttpStream stream)
    {
        CountTrackedErrors(stream);
        if (!_proxyStream.HasEndObservers)
        {
            return;
        }

        ref StreamRecord r = ref stream.Log;
        bool parsed = stream.Exchange.HasRequest;
        HttpRequestHead request = stream.Exchange.Request;
        var entry = new HttpLogEntry
        {
            Started = r.StartWall,
            Listener = _settings.Name,
            Client = _session.Connection.ClientEndPoint,
            Method = parsed ? request.Method : null,
            Path = parsed ? request.Path : null,
            Query = parsed ? request.Query : null,
            Authority = parsed ? request.Authority : null,
            Status = r.Status,
            BytesToClient = r.BytesOut,
            Termination = r.End,
            Detail = r.Detail,
            Backend = r.Backend?.Name,
            Server = r.Server?.Name,
            Retries = r.Retries,
            RequestHeadTime = r.HeadDone == 0 ? null : Stopwatch.GetElapsedTime(r.Start, r.HeadDone),
            ConnectTime = r.Connect < TimeSpan.Zero ? null : r.Connect,
            ResponseTime = r.ResponseHead == 0 || r.HeadDone == 0 ? null : Stopwatch.GetElapsedTime(r.HeadDone, r.ResponseHead),
            TotalTime = Stopwatch.GetElapsedTime(r.Start),
        };
        if (_proxyStream.NotifyEnded(entry) is { } failure)
        {
            // A logger that fails loses its own entry; the stream has ended already and the connection goes on.
            Log.LogError(failure, "Session {Session}: a stream-end observer (an http logger) threw", _session.Id);
        }
    }
}
