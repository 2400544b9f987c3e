using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace PluginProxy.Host.Logging;

/// <summary>
/// A JSON writer and its buffer, one per thread and reused for every line, so formatting a line allocates nothing once
/// the buffer has grown to the longest line. Strings are escaped as JSON requires (quotes, backslashes, control
/// characters; an unpaired surrogate becomes U+FFFD), other characters are written as UTF-8.
/// </summary>
internal sealed class JsonLine
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [ThreadStatic]
    private static JsonLine? t_current;

    private readonly ArrayBufferWriter<byte> _buffer = new(4096);

    private JsonLine() => Writer = new Utf8JsonWriter(_buffer, Options);

    public Utf8JsonWriter Writer { get; }

    /// <summary>The line written since <see cref="Start"/>.</summary>
    public ReadOnlySpan<byte> Written
    {
        get
        {
            Writer.Flush();
            return _buffer.WrittenSpan;
        }
    }

    /// <summary>This thread's writer, emptied.</summary>
    public static JsonLine Start()
    {
        JsonLine line = t_current ??= new JsonLine();
        line._buffer.ResetWrittenCount();
        line.Writer.Reset(line._buffer);
        return line;
    }
}
