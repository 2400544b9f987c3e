using System.Net;
using System.Text;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;
using PluginProxy.Host.Configuration;
using PluginProxy.TestKit;

namespace PluginProxy.Tests.Logging;

/// <summary>Access records as the http supervisor hands them to the access log, built from raw heads.</summary>
internal static class AccessRecords
{
    public static readonly TestBackend Backend = new("app");
    public static readonly TestServer Server = new("s1", Backend, new IPEndPoint(IPAddress.Loopback, 9001));
    public static readonly DateTime Start = new(2026, 11, 30, 0, 59, 18, 974, DateTimeKind.Utc);

    /// <summary>An exchange whose request head is <paramref name="requestHead"/> (Latin-1, "METHOD target HTTP/1.1\r\nfields...") and, when given, whose response has <paramref name="responseFields"/>.</summary>
    public static HttpExchange Exchange(string requestHead, params (string Name, string Value)[] responseFields)
    {
        var exchange = new HttpExchange();
        byte[] source = Encoding.Latin1.GetBytes(requestHead);
        string text = requestHead;
        int firstSpace = text.IndexOf(' ');
        int secondSpace = text.IndexOf(' ', firstSpace + 1);
        exchange.Request.Reset(source, 0..firstSpace, (firstSpace + 1)..secondSpace, HttpProtocol.Http11, null, false);
        AddFields(exchange.Request.Headers, source, text);
        exchange.HasRequest = true;
        if (responseFields.Length > 0)
        {
            string head = "HTTP/1.1 200 OK\r\n" + string.Concat(responseFields.Select(f => $"{f.Name}: {f.Value}\r\n"));
            byte[] response = Encoding.Latin1.GetBytes(head);
            exchange.Response.Reset(response, 200, 13..15, HttpProtocol.Http11, null);
            AddFields(exchange.Response.Headers, response, head);
            exchange.HasResponse = true;
        }

        return exchange;
    }

    /// <summary>A served stream of <paramref name="exchange"/> on listener "web".</summary>
    public static AccessRecord Served(HttpExchange exchange, string? detail = null) => new()
    {
        Listener = "web",
        Client = "127.0.0.1:41914",
        Start = Start,
        Backend = Backend,
        Server = Server,
        RequestTime = TimeSpan.FromMilliseconds(3),
        QueueTime = TimeSpan.Zero,
        ConnectTime = TimeSpan.FromMilliseconds(1),
        ResponseTime = TimeSpan.FromMilliseconds(7),
        TotalTime = TimeSpan.FromMilliseconds(12),
        Status = 200,
        BytesIn = 78,
        BytesOut = 406,
        Termination = SessionTermination.Normal,
        Retries = 1,
        Detail = detail,
        Exchange = exchange,
        Target = exchange.Request.RawTarget,
        Logged = true,
    };

    /// <summary>A request that could not be read: no backend, no server, no request line.</summary>
    public static AccessRecord BadRequest() => new()
    {
        Listener = "web",
        Client = "127.0.0.1:41915",
        Start = Start,
        RequestTime = AccessRecord.None,
        QueueTime = AccessRecord.None,
        ConnectTime = AccessRecord.None,
        ResponseTime = AccessRecord.None,
        TotalTime = TimeSpan.FromMilliseconds(2),
        Status = 400,
        BytesIn = 20,
        BytesOut = 231,
        Termination = SessionTermination.BadRequest,
        Detail = "bare LF line ending",
        Exchange = new HttpExchange(),
        Logged = true,
    };

    public static HeaderCapture Capture(string[] request, string[] response) =>
        new(request.Select(Parse).ToList(), response.Select(Parse).ToList());

    /// <summary>"Name" or "Name:len".</summary>
    private static CapturedHeader Parse(string spec) => spec.Split(':') is [var name, var len]
        ? new CapturedHeader(name, int.Parse(len))
        : new CapturedHeader(spec, CapturedHeader.DefaultLength);

    private static void AddFields(HttpHeaders headers, byte[] source, string text)
    {
        int at = text.IndexOf("\r\n", StringComparison.Ordinal) + 2;
        while (at < text.Length)
        {
            int end = text.IndexOf("\r\n", at, StringComparison.Ordinal);
            if (end < 0 || end == at)
            {
                break;
            }

            int colon = text.IndexOf(':', at);
            int valueStart = colon + 1;
            while (text[valueStart] == ' ')
            {
                valueStart++;
            }

            headers.AddReceived(at, colon - at, valueStart, end - valueStart);
            at = end + 2;
        }
    }
}
