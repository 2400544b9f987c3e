using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Logging;

/// <summary>
/// The JSON format of the traffic log: one object per line with the text line's fields under snake_case names
/// (docs/http.md, "Access log"). Durations are whole milliseconds, -1 when the phase did not happen; what is absent is
/// null. Bytes from the wire (the method, the target, header values) are read as Latin-1, one character per byte.
/// </summary>
internal static class AccessLogJson
{
    /// <summary>The target is cut here (then <c>...</c>), as in the text line.</summary>
    private const int MaxTarget = 1024;

    private static readonly JsonEncodedText Time = JsonEncodedText.Encode("time");
    private static readonly JsonEncodedText Kind = JsonEncodedText.Encode("kind");
    private static readonly JsonEncodedText Client = JsonEncodedText.Encode("client");
    private static readonly JsonEncodedText ListenerName = JsonEncodedText.Encode("listener");
    private static readonly JsonEncodedText BackendName = JsonEncodedText.Encode("backend");
    private static readonly JsonEncodedText ServerName = JsonEncodedText.Encode("server");
    private static readonly JsonEncodedText RequestMs = JsonEncodedText.Encode("request_ms");
    private static readonly JsonEncodedText QueueMs = JsonEncodedText.Encode("queue_ms");
    private static readonly JsonEncodedText ConnectMs = JsonEncodedText.Encode("connect_ms");
    private static readonly JsonEncodedText ResponseMs = JsonEncodedText.Encode("response_ms");
    private static readonly JsonEncodedText TotalMs = JsonEncodedText.Encode("total_ms");
    private static readonly JsonEncodedText Status = JsonEncodedText.Encode("status");
    private static readonly JsonEncodedText BytesIn = JsonEncodedText.Encode("bytes_in");
    private static readonly JsonEncodedText BytesOut = JsonEncodedText.Encode("bytes_out");
    private static readonly JsonEncodedText Termination = JsonEncodedText.Encode("termination");
    private static readonly JsonEncodedText Retries = JsonEncodedText.Encode("retries");
    private static readonly JsonEncodedText Method = JsonEncodedText.Encode("method");
    private static readonly JsonEncodedText Target = JsonEncodedText.Encode("target");
    private static readonly JsonEncodedText Version = JsonEncodedText.Encode("version");
    private static readonly JsonEncodedText Detail = JsonEncodedText.Encode("detail");
    private static readonly JsonEncodedText RequestHeaders = JsonEncodedText.Encode("request_headers");
    private static readonly JsonEncodedText ResponseHeaders = JsonEncodedText.Encode("response_headers");
    private static readonly JsonEncodedText Message = JsonEncodedText.Encode("message");
    private static readonly JsonEncodedText Http = JsonEncodedText.Encode("http");
    private static readonly JsonEncodedText Tcp = JsonEncodedText.Encode("tcp");
    private static readonly JsonEncodedText Line = JsonEncodedText.Encode("line");

    /// <summary>An HTTP stream: <c>"kind": "http"</c>, then the fields of the text line, then the captured headers.</summary>
    public static void WriteHttp(Utf8JsonWriter json, in AccessRecord record, HeaderCapture? capture)
    {
        json.WriteStartObject();
        WriteTime(json, record.Start);
        json.WriteString(Kind, Http);
        json.WriteString(Client, record.Client);
        json.WriteString(ListenerName, record.Listener);
        WriteNullable(json, BackendName, record.Backend?.Name);
        WriteNullable(json, ServerName, record.Server?.Name);
        json.WriteNumber(RequestMs, AccessRecord.Milliseconds(record.RequestTime));
        json.WriteNumber(QueueMs, AccessRecord.Milliseconds(record.QueueTime));
        json.WriteNumber(ConnectMs, AccessRecord.Milliseconds(record.ConnectTime));
        json.WriteNumber(ResponseMs, AccessRecord.Milliseconds(record.ResponseTime));
        json.WriteNumber(TotalMs, AccessRecord.Milliseconds(record.TotalTime));
        json.WriteNumber(Status, record.Status);
        json.WriteNumber(BytesIn, record.BytesIn);
        json.WriteNumber(BytesOut, record.BytesOut);
        json.WriteString(Termination, record.Termination.ToLogName());
        json.WriteNumber(Retries, record.Retries);
        if (record.HasRequest)
        {
            HttpRequestHead request = record.Exchange!.Request;
            WriteLatin1(json, Method, request.RawMethod, MaxTarget);
            WriteLatin1(json, Target, record.Target, MaxTarget);
            json.WriteString(Version, AccessLogText.VersionName(request.Version));
        }
        else
        {
            json.WriteNull(Method);
            json.WriteNull(Target);
            json.WriteNull(Version);
        }

        WriteNullable(json, Detail, record.Detail);
        if (capture is { Request.Count: > 0 })
        {
            WriteHeaders(json, RequestHeaders, capture.Request, record.HasRequest ? record.Exchange!.Request.Headers : null);
        }

        if (capture is { Response.Count: > 0 })
        {
            WriteHeaders(json, ResponseHeaders, capture.Response, record.Exchange is { HasResponse: true } exchange ? exchange.Response.Headers : null);
        }

        json.WriteEndObject();
    }

    /// <summary>A tcp session that ended (or a connection refused before it became one): <c>"kind": "tcp"</c> and the session line's fields.</summary>
    public static void WriteSession(Utf8JsonWriter json, AcceptedConnection connection, SessionLog log, long endTimestamp)
    {
        json.WriteStartObject();
        WriteTime(json, connection.AcceptedAt.UtcDateTime);
        json.WriteString(Kind, Tcp);
        json.WriteString(Client, LogNames.Format(connection.ClientEndPoint));
        json.WriteString(ListenerName, connection.ListenerName);
        WriteNullable(json, BackendName, log.Backend);
        WriteNullable(json, ServerName, log.Server);
        json.WriteNumber(ConnectMs, log.ConnectTime is { } connect ? (long)connect.TotalMilliseconds : -1);
        json.WriteNumber(TotalMs, (long)Stopwatch.GetElapsedTime(connection.AcceptedTimestamp, endTimestamp).TotalMilliseconds);
        json.WriteNumber(BytesIn, log.BytesFromClient);
        json.WriteNumber(BytesOut, log.BytesFromServer);
        json.WriteString(Termination, log.Termination.ToLogName());
        json.WriteNumber(Retries, log.Retries);
        WriteNullable(json, Detail, log.Detail is { Length: > 0 } detail ? detail : null);
        json.WriteEndObject();
    }

    /// <summary>A supervisor's own line: <c>{"time": now, "kind": "line", "message": ...}</c>.</summary>
    public static void WriteMessage(Utf8JsonWriter json, ReadOnlySpan<char> message)
    {
        json.WriteStartObject();
        WriteTime(json, DateTime.UtcNow);
        json.WriteString(Kind, Line);
        json.WriteString(Message, message);
        json.WriteEndObject();
    }

    private static void WriteTime(Utf8JsonWriter json, DateTime utc)
    {
        Span<char> text = stackalloc char[32];
        utc.TryFormat(text, out int written, "yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        json.WriteString(Time, text[..written]);
    }

    private static void WriteNullable(Utf8JsonWriter json, JsonEncodedText name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }

    /// <summary>Bytes as Latin-1 characters, at most <paramref name="max"/> of them (then <c>...</c>).</summary>
    private static void WriteLatin1(Utf8JsonWriter json, JsonEncodedText name, ReadOnlySpan<byte> bytes, int max, bool mark = true)
    {
        bool cut = bytes.Length > max;
        int length = cut ? max : bytes.Length;
        Span<char> text = stackalloc char[max + 3];
        int written = Encoding.Latin1.GetChars(bytes[..length], text);
        if (cut && mark)
        {
            "...".CopyTo(text[written..]);
            written += 3;
        }

        json.WriteString(name, text[..written]);
    }

    /// <summary>The captured headers as an object keyed by the lower-case names; a header that is absent (or no head at all) is null.</summary>
    private static void WriteHeaders(Utf8JsonWriter json, JsonEncodedText name, IReadOnlyList<CapturedHeader> captured, HttpHeaders? headers)
    {
        json.WriteStartObject(name);
        // Indexed: a foreach over the interface would allocate its enumerator.
        for (int i = 0; i < captured.Count; i++)
        {
            CapturedHeader header = captured[i];
            int index = headers?.IndexOf(header.AsciiName) ?? -1;
            if (index < 0)
            {
                json.WriteNull(header.JsonKey);
            }
            else if (headers!.IsReceived(index))
            {
                WriteLatin1(json, header.JsonKey, headers.RawValue(index), header.Length, mark: false);
            }
            else
            {
                string value = headers.ValueAt(index);
                json.WriteString(header.JsonKey, value.AsSpan(0, Math.Min(value.Length, header.Length)));
            }
        }

        json.WriteEndObject();
    }
}
