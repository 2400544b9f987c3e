using System.Net;
using System.Text.Json;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;
using PluginProxy.Host.Configuration;
using PluginProxy.Host.Logging;

namespace PluginProxy.Tests.Logging;

/// <summary>The traffic log's two formats (docs/http.md, "Access log"): the text line, unchanged, and JSON lines with the same fields.</summary>
public sealed class AccessLogFormatTests
{
    private const string Request = "GET /a?q=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.5.0 (x86_64)\r\n\r\n";

    private static string Text(in AccessRecord record, HeaderCapture? capture = null)
    {
        Span<char> captures = stackalloc char[CaptureText.MaxLength];
        int captured = capture is null ? 0 : CaptureText.Format(record, capture, captures);
        Span<char> line = stackalloc char[AccessLogText.MaxLength + captured];
        return line[..AccessLogText.Format(record, line, captures[..captured])].ToString();
    }

    private static JsonElement Json(in AccessRecord record, HeaderCapture? capture = null)
    {
        JsonLine line = JsonLine.Start();
        AccessLogJson.WriteHttp(line.Writer, record, capture);
        return JsonDocument.Parse(line.Written.ToArray()).RootElement.Clone();
    }

    [Fact]
    public void TheTextLine_IsHaproxysHttplog_AndUnchangedWithoutCaptures()
    {
        HttpExchange exchange = AccessRecords.Exchange(Request);
        AccessRecord record = AccessRecords.Served(exchange);
        Span<char> plain = stackalloc char[AccessLogText.MaxLength];
        string line = plain[..AccessLogText.Format(record, plain)].ToString();

        Assert.Equal("127.0.0.1:41914 [30/Nov/2026:00:59:18.974] web app/s1 3/0/1/7/12 200 406 normal retries=1 \"GET /a?q=1 HTTP/1.1\"", line);
        Assert.Equal(line, Text(record));
        Assert.Equal(line, Text(record, HeaderCapture.None));
        Assert.Equal("127.0.0.1:41915 [30/Nov/2026:00:59:18.974] web -/- -1/-1/-1/-1/2 400 231 bad_request retries=0 \"<BADREQ>\" \"bare LF line ending\"",
            Text(AccessRecords.BadRequest()));
    }

    [Fact]
    public void Json_HasEveryFieldOfTheTextLine_UnderSnakeCaseNames()
    {
        JsonElement line = Json(AccessRecords.Served(AccessRecords.Exchange(Request), detail: "rate \"limited\""));

        Assert.Equal("2026-11-30T00:59:18.974Z", line.GetProperty("time").GetString());
        Assert.Equal("http", line.GetProperty("kind").GetString());
        Assert.Equal("127.0.0.1:41914", line.GetProperty("client").GetString());
        Assert.Equal(("web", "app", "s1"), (line.GetProperty("listener").GetString(), line.GetProperty("backend").GetString(), line.GetProperty("server").GetString()));
        Assert.Equal((3, 0, 1, 7, 12), (line.GetProperty("request_ms").GetInt32(), line.GetProperty("queue_ms").GetInt32(),
            line.GetProperty("connect_ms").GetInt32(), line.GetProperty("response_ms").GetInt32(), line.GetProperty("total_ms").GetInt32()));
        Assert.Equal((200, 78L, 406L), (line.GetProperty("status").GetInt32(), line.GetProperty("bytes_in").GetInt64(), line.GetProperty("bytes_out").GetInt64()));
        Assert.Equal(("normal", 1), (line.GetProperty("termination").GetString(), line.GetProperty("retries").GetInt32()));
        Assert.Equal(("GET", "/a?q=1", "HTTP/1.1"), (line.GetProperty("method").GetString(), line.GetProperty("target").GetString(), line.GetProperty("version").GetString()));
        Assert.Equal("rate \"limited\"", line.GetProperty("detail").GetString());
        Assert.False(line.TryGetProperty("request_headers", out _));
        Assert.False(line.TryGetProperty("response_headers", out _));
    }

    [Fact]
    public void Json_OfABadRequest_HasNullsWhereTheTextLineHasDashes_AndMinusOneForPhasesThatDidNotHappen()
    {
        JsonElement line = Json(AccessRecords.BadRequest());

        Assert.All(new[] { "backend", "server", "method", "target", "version" }, name => Assert.Equal(JsonValueKind.Null, line.GetProperty(name).ValueKind));
        Assert.All(new[] { "request_ms", "queue_ms", "connect_ms", "response_ms" }, name => Assert.Equal(-1, line.GetProperty(name).GetInt32()));
        Assert.Equal((400, "bad_request", "bare LF line ending"), (line.GetProperty("status").GetInt32(), line.GetProperty("termination").GetString(), line.GetProperty("detail").GetString()));
    }

    [Fact]
    public void Json_StaysValid_WhateverBytesTheTargetHolds_EachByteALatin1Character()
    {
        // Quotes, a backslash, control bytes, bytes above 0x7F (raw UTF-8 of "é" is two of them) and a line break.
        string target = "/\"q\\\x01\x1f\x7f\xc3\xa9\xff";
        HttpExchange exchange = AccessRecords.Exchange($"GET {target} HTTP/1.1\r\nHost: a\r\n\r\n");

        JsonElement line = Json(AccessRecords.Served(exchange));

        Assert.Equal(target, line.GetProperty("target").GetString());

        // The text line escapes the same bytes as \xNN.
        Assert.Contains("\"GET /\\x22q\\x5c\\x01\\x1f\\x7f\\xc3\\xa9\\xff HTTP/1.1\"", Text(AccessRecords.Served(exchange)));
    }

    [Fact]
    public void Json_CutsALongTarget_AsTheTextLineDoes()
    {
        string target = "/" + new string('a', 2000);
        JsonElement line = Json(AccessRecords.Served(AccessRecords.Exchange($"GET {target} HTTP/1.1\r\n\r\n")));

        Assert.Equal(target[..1024] + "...", line.GetProperty("target").GetString());
    }

    [Fact]
    public void CapturedHeaders_AreHaproxyBlocksBeforeTheRequestLine_InTheConfiguredOrder_CutAtTheirLength()
    {
        HttpExchange exchange = AccessRecords.Exchange(Request + "", ("Content-Type", "text/html; charset=utf-8"));
        HeaderCapture capture = AccessRecords.Capture(["host", "User-Agent:4", "X-Absent"], ["Content-Type"]);

        string line = Text(AccessRecords.Served(exchange), capture);

        Assert.Equal("127.0.0.1:41914 [30/Nov/2026:00:59:18.974] web app/s1 3/0/1/7/12 200 406 normal retries=1 "
            + "{example.com|curl|} {text/html; charset=utf-8} \"GET /a?q=1 HTTP/1.1\"", line);
    }

    [Fact]
    public void CapturedValues_CannotEndTheirBlockOrForgeALine()
    {
        HttpExchange exchange = AccessRecords.Exchange("GET / HTTP/1.1\r\nX-A: a|b}{\"c\\\x01\xe9\r\n\r\n");

        string line = Text(AccessRecords.Served(exchange), AccessRecords.Capture(["X-A"], []));

        Assert.Contains(" {a\\x7cb\\x7d\\x7b\\x22c\\x5c\\x01\\xe9} \"GET / HTTP/1.1\"", line);
    }

    [Fact]
    public void CapturedHeaders_WithOnlyResponseOnes_ShowOneBlock_AndABadRequestShowsEmptyValues()
    {
        HeaderCapture capture = AccessRecords.Capture(["Host", "User-Agent"], ["Content-Type"]);

        Assert.Contains(" retries=0 {|} {} \"<BADREQ>\"", Text(AccessRecords.BadRequest(), capture));
        Assert.Contains(" retries=1 {text/plain} \"GET", Text(AccessRecords.Served(AccessRecords.Exchange(Request, ("Content-Type", "text/plain"))),
            AccessRecords.Capture([], ["Content-Type"])));
    }

    [Fact]
    public void CapturedHeaders_InJson_AreObjectsByLowerCaseName_NullWhenAbsent()
    {
        HttpExchange exchange = AccessRecords.Exchange(Request, ("Content-Type", "text/html"));
        exchange.Request.Headers.Set("X-Set-By-Analyzer", "v\u00e9\"");

        JsonElement line = Json(AccessRecords.Served(exchange), AccessRecords.Capture(["Host", "User-Agent:4", "X-Absent", "X-Set-By-Analyzer"], ["Content-Type", "Server"]));

        JsonElement request = line.GetProperty("request_headers");
        Assert.Equal("example.com", request.GetProperty("host").GetString());
        Assert.Equal("curl", request.GetProperty("user-agent").GetString());
        Assert.Equal(JsonValueKind.Null, request.GetProperty("x-absent").ValueKind);
        Assert.Equal("v\u00e9\"", request.GetProperty("x-set-by-analyzer").GetString());
        JsonElement response = line.GetProperty("response_headers");
        Assert.Equal("text/html", response.GetProperty("content-type").GetString());
        Assert.Equal(JsonValueKind.Null, response.GetProperty("server").ValueKind);

        JsonElement bad = Json(AccessRecords.BadRequest(), AccessRecords.Capture(["Host"], ["Content-Type"]));
        Assert.Equal(JsonValueKind.Null, bad.GetProperty("request_headers").GetProperty("host").ValueKind);
        Assert.Equal(JsonValueKind.Null, bad.GetProperty("response_headers").GetProperty("content-type").ValueKind);
    }

    [Fact]
    public void ATcpSession_InJson_HasTheSessionLinesFields()
    {
        var connection = new AcceptedConnection("raw", AcceptFlags.None, new IPEndPoint(IPAddress.Loopback, 50000), new IPEndPoint(IPAddress.Loopback, 8080));
        var log = new SessionLog { Backend = "echo", Server = "e1", BytesFromClient = 5, BytesFromServer = 7, ConnectTime = TimeSpan.FromMilliseconds(2), Detail = "said \"bye\"" };
        JsonLine json = JsonLine.Start();

        AccessLogJson.WriteSession(json.Writer, connection, log, System.Diagnostics.Stopwatch.GetTimestamp());
        JsonElement line = JsonDocument.Parse(json.Written.ToArray()).RootElement;

        Assert.Equal(("tcp", "127.0.0.1:50000", "raw"), (line.GetProperty("kind").GetString(), line.GetProperty("client").GetString(), line.GetProperty("listener").GetString()));
        Assert.Equal(("echo", "e1"), (line.GetProperty("backend").GetString(), line.GetProperty("server").GetString()));
        Assert.Equal(2, line.GetProperty("connect_ms").GetInt32());
        Assert.True(line.GetProperty("total_ms").GetInt64() >= 0);
        Assert.Equal((5, 7), (line.GetProperty("bytes_in").GetInt32(), line.GetProperty("bytes_out").GetInt32()));
        Assert.Equal(("normal", 0, "said \"bye\""), (line.GetProperty("termination").GetString(), line.GetProperty("retries").GetInt32(), line.GetProperty("detail").GetString()));
        Assert.True(DateTime.TryParse(line.GetProperty("time").GetString(), out _));
    }
}
