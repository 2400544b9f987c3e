using System.Diagnostics;
using System.Globalization;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;

namespace PluginProxy.Http.Engine;

/// <summary>What the access log line says about one stream: times, status, bytes, how it ended.</summary>
internal struct StreamRecord
{
    public long Start;
    public long HeadDone;
    public long ResponseHead;
    public DateTime StartWall;
    public long ConnectMs;
    public int Status;
    public long BytesOut;
    public SessionTermination End;
    public string? Detail;
    public int Retries;
    public string? BackendName;
    public string? ServerName;

    public void Begin()
    {
        Start = Stopwatch.GetTimestamp();
        StartWall = DateTime.UtcNow;
        HeadDone = 0;
        ResponseHead = 0;
        ConnectMs = -1;
        Status = -1;
        BytesOut = 0;
        End = SessionTermination.Normal;
        Detail = null;
        Retries = 0;
        BackendName = null;
        ServerName = null;
    }
}

/// <summary>
/// One line per stream, close to HAProxy's httplog:
/// <c>client [date] listener backend/server TR/Tw/Tc/Tr/Ta status bytes termination retries=n "request line" "detail"</c>.
/// TR: request head time, Tw: queue time (0: nothing waits in a queue here), Tc: connect time (0 for a reused
/// connection), Tr: server response time, Ta: the whole stream, all in ms, -1 when the phase did not happen.
/// </summary>
internal static class AccessLogLine
{
    public static void Write(IAccessLog log, string listener, string client, HttpStream stream)
    {
        ref StreamRecord r = ref stream.Log;
        Span<char> buffer = stackalloc char[2048];
        var line = new LineWriter(buffer);
        line.Append(client);
        line.Append(" [");
        line.AppendDate(r.StartWall);
        line.Append("] ");
        line.Append(listener);
        line.Append(' ');
        line.Append(r.BackendName ?? "-");
        line.Append('/');
        line.Append(r.ServerName ?? "-");
        line.Append(' ');
        line.Append(r.HeadDone == 0 ? -1 : (long)Stopwatch.GetElapsedTime(r.Start, r.HeadDone).TotalMilliseconds);
        line.Append('/');
        line.Append(r.ServerName is null ? -1 : 0);
        line.Append('/');
        line.Append(r.ConnectMs);
        line.Append('/');
        line.Append(r.ResponseHead == 0 || r.HeadDone == 0 ? -1 : (long)Stopwatch.GetElapsedTime(r.HeadDone, r.ResponseHead).TotalMilliseconds);
        line.Append('/');
        line.Append((long)Stopwatch.GetElapsedTime(r.Start).TotalMilliseconds);
        line.Append(' ');
        line.Append(r.Status);
        line.Append(' ');
        line.Append(r.BytesOut);
        line.Append(' ');
        line.Append(r.End.ToLogName());
        line.Append(" retries=");
        line.Append(r.Retries);
        line.Append(" \"");
        if (stream.Exchange.HasRequest)
        {
            HttpRequestHead request = stream.Exchange.Request;
            line.AppendEscaped(request.RawMethod);
            line.Append(' ');
            line.AppendEscaped(stream.ReceivedTarget, 1024);
            line.Append(request.Version switch { HttpProtocol.Http11 => " HTTP/1.1\"", HttpProtocol.Http2 => " HTTP/2.0\"", _ => " HTTP/1.0\"" });
        }
        else
        {
            line.Append("<BADREQ>\"");
        }

        if (r.Detail is not null)
        {
            line.Append(" \"");
            line.Append(r.Detail);
            line.Append('"');
        }

        log.Write(line.Written);
    }

    /// <summary>Appends to a fixed buffer without allocating; what does not fit is cut.</summary>
    private ref struct LineWriter(Span<char> buffer)
    {
        private readonly Span<char> _buffer = buffer;
        private int _length;

        public readonly ReadOnlySpan<char> Written => _buffer[.._length];

        public void Append(char c)
        {
            if (_length < _buffer.Length)
            {
                _buffer[_length++] = c;
            }
        }

        public void Append(ReadOnlySpan<char> text)
        {
            int n = Math.Min(text.Length, _buffer.Length - _length);
            text[..n].CopyTo(_buffer[_length..]);
            _length += n;
        }

        public void Append(long value)
        {
            if (value.TryFormat(_buffer[_length..], out int written, default, CultureInfo.InvariantCulture))
            {
                _length += written;
            }
        }

        public void AppendDate(DateTime utc)
        {
            if (utc.TryFormat(_buffer[_length..], out int written, "dd/MMM/yyyy:HH:mm:ss.fff", CultureInfo.InvariantCulture))
            {
                _length += written;
            }
        }

        /// <summary>Bytes as Latin-1, with quotes, backslashes and control bytes escaped so a line cannot be forged.</summary>
        public void AppendEscaped(ReadOnlySpan<byte> bytes, int max = int.MaxValue)
        {
            int count = 0;
            foreach (byte b in bytes)
            {
                if (count++ >= max)
                {
                    Append("...");
                    return;
                }

                if (b is (byte)'"' or (byte)'\\' || b < 0x20 || b >= 0x7F)
                {
                    Append('\\');
                    Append('x');
                    Append("0123456789abcdef"[b >> 4]);
                    Append("0123456789abcdef"[b & 0xF]);
                }
                else
                {
                    Append((char)b);
                }
            }
        }
    }
}
