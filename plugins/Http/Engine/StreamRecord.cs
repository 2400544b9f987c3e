using System.Diagnostics;
using PluginProxy.Abstractions;

namespace PluginProxy.Http.Engine;

/// <summary>What the access log and the metrics learn about one stream: times, status, bytes, how it ended.</summary>
internal struct StreamRecord
{
    public long Start;
    public long HeadDone;
    public long ResponseHead;
    public DateTime StartWall;
    public TimeSpan Connect;
    public TimeSpan Queue;
    public int Status;
    public long BytesIn;
    public long BytesOut;
    public SessionTermination End;
    public string? Detail;
    public string? FailedAnalyzer;
    public int Retries;
    public IBackend? Backend;
    public IServer? Server;
    public System.Diagnostics.Activity? Activity;

    public void Begin()
    {
        Start = Stopwatch.GetTimestamp();
        StartWall = DateTime.UtcNow;
        HeadDone = 0;
        ResponseHead = 0;
        Connect = AccessRecord.None;
        Queue = AccessRecord.None;
        Status = -1;
        BytesIn = 0;
        BytesOut = 0;
        End = SessionTermination.Normal;
        Detail = null;
        FailedAnalyzer = null;
        Retries = 0;
        Backend = null;
        Server = null;
        Activity = null;
    }

    /// <summary>Hands the finished stream to the host's access log (which writes its line and counts it).</summary>
    public static void Write(IAccessLog log, string listener, string client, bool logged, HttpStream stream)
    {
        ref StreamRecord r = ref stream.Log;
        log.Write(new AccessRecord
        {
            Listener = listener,
            Client = client,
            Start = r.StartWall,
            Backend = r.Backend,
            Server = r.Server,
            RequestTime = r.HeadDone == 0 ? AccessRecord.None : Stopwatch.GetElapsedTime(r.Start, r.HeadDone),
            QueueTime = r.Queue,
            ConnectTime = r.Connect,
            ResponseTime = r.ResponseHead == 0 || r.HeadDone == 0 ? AccessRecord.None : Stopwatch.GetElapsedTime(r.HeadDone, r.ResponseHead),
            TotalTime = Stopwatch.GetElapsedTime(r.Start),
            Status = r.Status,
            BytesIn = r.BytesIn,
            BytesOut = r.BytesOut,
            Termination = r.End,
            Retries = r.Retries,
            Detail = r.Detail,
            FailedAnalyzer = r.FailedAnalyzer,
            Exchange = stream.Exchange,
            Target = stream.Exchange.HasRequest ? stream.ReceivedTarget : default,
            Logged = logged,
            Activity = r.Activity,
        });
    }
}
