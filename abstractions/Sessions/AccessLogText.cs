using System.Globalization;
using PluginProxy.Abstractions.Http;

namespace PluginProxy.Abstractions;

/// <summary>
/// The text access-log line of a stream, close to HAProxy's httplog:
/// <c>client [date] listener backend/server TR/Tw/Tc/Tr/Ta status bytes termination retries=n [{captured}] "request line" "detail"</c>.
/// TR: request head time, Tw: queue time, Tc: connect time (0 for a reused connection), Tr: server response time,
/// Ta: the whole stream, all in ms, -1 when the phase did not happen. Formats into a caller's buffer without allocating.
/// </summary>
public static class AccessLogText
{
    /// <summary>Room for any line: what does not fit is cut (the target is cut at 1,024 bytes first).</summary>
    public const int MaxLength = 2048;

    /// <summary>Writes <paramref name="record"/>'s line into <paramref name="buffer"/> and returns its length.</summary>
    public static int Format(in AccessRecord record, Span<char> buffer) => Format(record, buffer, default);

    /// <summary>
    /// Writes <paramref name="record"/>'s line with <paramref name="captures"/> (the captured headers, HAProxy's
    /// <c>{...} {...}</c> blocks, already escaped) between <c>retries=n</c> and the request line, where httplog has
    /// them; an empty <paramref name="captures"/> leaves the line as <see cref="Format(in AccessRecord, Span{char})"/> writes it.
    /// </summary>
    public static int Format(in AccessRecord record, Span<char> buffer, ReadOnlySpan<char> captures)
    {
        var line = new LineWriter(buffer);
        line.Append(record.Client);
        line.Append(" [");
        line.AppendDate(record.Start);
        line.Append("] ");
        line.Append(record.Listener);
        line.Append(' ');
        line.Append(record.Backend?.Name ?? "-");
        line.Append('/');
        line.Append(record.Server?.Name ?? "-");
        line.Append(' ');
        line.Append(AccessRecord.Milliseconds(record.RequestTime));
        line.Append('/');
        line.Append(AccessRecord.Milliseconds(record.QueueTime));
        line.Append('/');
        line.Append(AccessRecord.Milliseconds(record.ConnectTime));
        line.Append('/');
        line.Append(AccessRecord.Milliseconds(record.ResponseTime));
        line.Append('/');
        line.Append(AccessRecord.Milliseconds(record.TotalTime));
        line.Append(' ');
        line.Append(record.Status);
        line.Append(' ');
        line.Append(record.BytesOut);
        line.Append(' ');
        line.Append(record.Termination.ToLogName());
        line.Append(" retries=");
        line.Append(record.Retries);
        if (!captures.IsEmpty)
        {
            line.Append(' ');
            line.Append(captures);
        }

        line.Append(" \"");
        if (record.HasRequest)
        {
            HttpRequestHead request = record.Exchange!.Request;
            line.AppendEscaped(request.RawMethod, int.MaxValue);
            line.Append(' ');
            line.AppendEscaped(record.Target, 1024);
            line.Append(' ');
            line.Append(VersionName(request.Version));
            line.Append('"');
        }
        else
        {
            line.Append("<BADREQ>\"");
        }

        if (record.Detail is not null)
        {
            line.Append(" \"");
            line.Append(record.Detail);
            line.Append('"');
        }

        return line.Length;
    }

    /// <summary>The version as a request line spells it: HTTP/1.0, HTTP/1.1, HTTP/2.0.</summary>
    public static string VersionName(HttpProtocol version) => version switch
    {
        HttpProtocol.Http11 => "HTTP/1.1",
        HttpProtocol.Http2 => "HTTP/2.0",
        _ => "HTTP/1.0",
    };

    /// <summary>
    /// Appends bytes as Latin-1 with quotes, backslashes and control bytes escaped (<c>\xNN</c>) so a line cannot be
    /// forged; at most <paramref name="max"/> bytes, then <c>...</c>. Returns the characters written.
    /// </summary>
    public static int AppendEscaped(ReadOnlySpan<byte> bytes, Span<char> buffer, int max = int.MaxValue)
    {
        var line = new LineWriter(buffer);
        line.AppendEscaped(bytes, max);
        return line.Length;
    }

    /// <summary>Appends to a fixed buffer without allocating; what does not fit is cut.</summary>
    private ref struct LineWriter(Span<char> buffer)
    {
        private readonly Span<char> _buffer = buffer;

        public int Length { get; private set; }

        public void Append(char c)
        {
            if (Length < _buffer.Length)
            {
                _buffer[Length++] = c;
            }
        }

        public void Append(ReadOnlySpan<char> text)
        {
            int n = Math.Min(text.Length, _buffer.Length - Length);
            text[..n].CopyTo(_buffer[Length..]);
            Length += n;
        }

        public void Append(long value)
        {
            if (value.TryFormat(_buffer[Length..], out int written, default, CultureInfo.InvariantCulture))
            {
                Length += written;
            }
        }

        public void AppendDate(DateTime utc)
        {
            if (utc.TryFormat(_buffer[Length..], out int written, "dd/MMM/yyyy:HH:mm:ss.fff", CultureInfo.InvariantCulture))
            {
                Length += written;
            }
        }

        public void AppendEscaped(ReadOnlySpan<byte> bytes, int max)
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
