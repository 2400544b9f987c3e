using System.Diagnostics;
using System.Globalization;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;

namespace PluginProxy.Http;

internal sealed partial class HttpConnection
{
    private long _tStart;
    private long _tHead;
    private long _tResponse;
    private DateTime _startWall;
    private long _connectMs;
    private int _status;
    private long _bytesOut;
    private SessionTermination _end;
    private string? _detail;
    private int _retries;
    private string? _logBackend;
    private string? _logServer;
    private string? _clientText;

    private void BeginLog()
    {
        _tStart = Stopwatch.GetTimestamp();
        _startWall = DateTime.UtcNow;
        _tHead = 0;
        _tResponse = 0;
        _connectMs = -1;
        _status = -1;
        _bytesOut = 0;
        _end = SessionTermination.Normal;
        _detail = null;
        _retries = 0;
        _logBackend = null;
        _logServer = null;
    }

    /// <summary>
    /// One line per stream, close to HAProxy's httplog:
    /// <c>client [date] listener backend/server TR/Tw/Tc/Tr/Ta status bytes termination retries=n "request line" "detail"</c>.
    /// TR: request head time, Tw: queue time (0: nothing waits in a queue here), Tc: connect time (0 for a reused
    /// connection), Tr: server response time, Ta: the whole stream, all in ms, -1 when the phase did not happen.
    /// </summary>
    private void WriteAccessLog(HttpStreamState state)
    {
        if (!_settings.AccessLog || !_owner.AccessLog.IsEnabled)
        {
            return;
        }

        Span<char> buffer = stackalloc char[2048];
        var line = new LineWriter(buffer);
        line.Append(_clientText ??= LogNames.Format(_session.Connection.ClientEndPoint));
        line.Append(" [");
        line.AppendDate(_startWall);
        line.Append("] ");
        line.Append(_settings.Name);
        line.Append(' ');
        line.Append(_logBackend ?? "-");
        line.Append('/');
        line.Append(_logServer ?? "-");
        line.Append(' ');
        line.Append(_tHead == 0 ? -1 : (long)Stopwatch.GetElapsedTime(_tStart, _tHead).TotalMilliseconds);
        line.Append('/');
        line.Append(_logServer is null ? -1 : 0);
        line.Append('/');
        line.Append(_connectMs);
        line.Append('/');
        line.Append(_tResponse == 0 || _tHead == 0 ? -1 : (long)Stopwatch.GetElapsedTime(_tHead, _tResponse).TotalMilliseconds);
        line.Append('/');
        line.Append((long)Stopwatch.GetElapsedTime(_tStart).TotalMilliseconds);
        line.Append(' ');
        line.Append(_status);
        line.Append(' ');
        line.Append(_bytesOut);
        line.Append(' ');
        line.Append(_end.ToLogName());
        line.Append(" retries=");
        line.Append(_retries);
        line.Append(" \"");
        if (state.Exchange.HasRequest)
        {
            HttpRequestHead request = state.Exchange.Request;
            line.AppendEscaped(request.RawMethod);
            line.Append(' ');
            line.AppendEscaped(state.ReceivedTarget, 1024);
            line.Append(request.Version == HttpProtocol.Http11 ? " HTTP/1.1\"" : " HTTP/1.0\"");
        }
        else
        {
            line.Append("<BADREQ>\"");
        }

        if (_detail is not null)
        {
            line.Append(" \"");
            line.Append(_detail);
            line.Append('"');
        }

        _owner.AccessLog.Write(line.Written);
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
