using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Logging;

/// <summary>
/// The captured headers in the text line, as HAProxy's httplog shows them: <c>{value|value}</c> for the request's,
/// then <c>{value}</c> for the response's, each block only when the listener captures headers of that side, values in
/// the configured order, empty when the header is absent, cut at their <c>len</c>. Quotes, backslashes, <c>|</c>,
/// braces, control and non-ASCII bytes are escaped as <c>\xNN</c>, so a value can neither end its block nor forge a line.
/// </summary>
internal static class CaptureText
{
    /// <summary>Room for the blocks: what does not fit is cut.</summary>
    public const int MaxLength = 4096;

    /// <summary>Writes the blocks of <paramref name="capture"/> into <paramref name="buffer"/> and returns their length (0 when nothing is captured).</summary>
    public static int Format(in AccessRecord record, HeaderCapture capture, Span<char> buffer)
    {
        var text = new Appender(buffer);
        if (capture.Request.Count > 0)
        {
            AppendBlock(ref text, capture.Request, record.HasRequest ? record.Exchange!.Request.Headers : null);
        }

        if (capture.Response.Count > 0)
        {
            if (text.Length > 0)
            {
                text.Append(' ');
            }

            AppendBlock(ref text, capture.Response, record.Exchange is { HasResponse: true } exchange ? exchange.Response.Headers : null);
        }

        return text.Length;
    }

    private static void AppendBlock(ref Appender text, IReadOnlyList<CapturedHeader> captured, HttpHeaders? headers)
    {
        text.Append('{');
        for (int i = 0; i < captured.Count; i++)
        {
            if (i > 0)
            {
                text.Append('|');
            }

            CapturedHeader header = captured[i];
            int index = headers?.IndexOf(header.AsciiName) ?? -1;
            if (index < 0)
            {
                continue;
            }

            if (headers!.IsReceived(index))
            {
                ReadOnlySpan<byte> value = headers.RawValue(index);
                foreach (byte b in value[..Math.Min(value.Length, header.Length)])
                {
                    text.AppendEscaped(b);
                }
            }
            else
            {
                string value = headers.ValueAt(index);
                foreach (char c in value.AsSpan(0, Math.Min(value.Length, header.Length)))
                {
                    text.AppendEscaped(c > 0xFF ? (byte)'?' : (byte)c);
                }
            }
        }

        text.Append('}');
    }

    private ref struct Appender(Span<char> buffer)
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

        public void AppendEscaped(byte b)
        {
            if (b is (byte)'"' or (byte)'\\' or (byte)'|' or (byte)'{' or (byte)'}' || b < 0x20 || b >= 0x7F)
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
