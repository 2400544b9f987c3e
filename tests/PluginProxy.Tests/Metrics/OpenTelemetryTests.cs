using System.Text;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Metrics;

/// <summary>
/// OTLP export and tracing against a stub OTLP/HTTP receiver on a real socket: metrics are pushed when
/// <c>otlp_endpoint</c> is set; with <c>tracing</c>, each stream is a span whose <c>traceparent</c> reaches the server
/// (a child of the client's, when it sent one) and whose span is exported; without it, nothing is added.
/// </summary>
public class OpenTelemetryTests
{
    private const string ClientTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
    private const string ClientSpan = "00f067aa0ba902b7";

    private static HttpOrigin Receiver() => new(async (_, socket) =>
    {
        await socket.SendAllAsync("HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n"u8.ToArray());
        return true;
    });

    private static string Config(string origin, string receiver, string extra) => $$"""
        {{RunningProxy.GlobalSection($"otlp_endpoint = \"http://{receiver}\"\notlp_interval = \"200ms\"\n{extra}")}}
        [[listener]]
        name = "traced"
        bind = ["127.0.0.1:0"]
        supervisor = "http"
        backend = "app"

        [[backend]]
        name = "app"
        servers = [{ name = "origin", address = "{{origin}}" }]
        """;

    private static async Task<OriginRequest> ExportAsync(HttpOrigin receiver, string path, Func<byte[], bool> match, string what)
    {
        OriginRequest? found = null;
        await Wait.UntilAsync(() => (found = receiver.Requests.FirstOrDefault(r => r.Target == path && match(r.Body))) is not null,
            $"an OTLP export to {path} with {what}");
        return found!;
    }

    private static bool Has(byte[] body, string text) => body.AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0;

    private static bool Has(byte[] body, byte[] bytes) => body.AsSpan().IndexOf(bytes) >= 0;

    [Fact]
    public async Task Metrics_ArePushedByOtlp_ToTheSignalsPathUnderTheEndpoint()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using HttpOrigin receiver = Receiver();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origin.Address, receiver.Address, ""));
        using (RawHttp client = await RawHttp.ConnectAsync(proxy))
        {
            await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
            Assert.Equal(200, (await client.ReadResponseAsync()).Status);
        }

        OriginRequest export = await ExportAsync(receiver, "/v1/metrics", b => Has(b, "pluginproxy.listener.requests") && Has(b, "pluginproxy.request.duration") && Has(b, "traced"), "the request counted");
        Assert.Equal("POST", export.Method);
        Assert.Equal("application/x-protobuf", export.Header("Content-Type"));
        Assert.True(Has(export.Body, "pluginproxy"), "the resource names the service");
        Assert.DoesNotContain(receiver.Requests, r => r.Target == "/v1/traces");
    }

    [Fact]
    public async Task Tracing_MakesTheStreamAChildOfTheClientsTrace_PropagatesItsOwnSpan_AndExportsIt()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using HttpOrigin receiver = Receiver();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origin.Address, receiver.Address, "tracing = true"));
        using (RawHttp client = await RawHttp.ConnectAsync(proxy))
        {
            await client.SendAsync($"GET /traced HTTP/1.1\r\nHost: a\r\ntraceparent: 00-{ClientTrace}-{ClientSpan}-01\r\ntracestate: vendor=1\r\n\r\n");
            Assert.Equal(200, (await client.ReadResponseAsync()).Status);
        }

        OriginRequest forwarded = Assert.Single(origin.Requests);
        string[] parent = forwarded.Header("traceparent")!.Split('-');
        Assert.Equal(["00", ClientTrace], parent[..2]);
        Assert.NotEqual(ClientSpan, parent[2]);
        Assert.Equal("01", parent[3]);
        Assert.Single(forwarded.Headers("traceparent"));
        Assert.Equal("vendor=1", forwarded.Header("tracestate"));

        // The exported span carries the trace id, its own span id (the one the server saw) and the client's as parent.
        await ExportAsync(receiver, "/v1/traces",
            b => Has(b, Convert.FromHexString(ClientTrace)) && Has(b, Convert.FromHexString(parent[2])) && Has(b, Convert.FromHexString(ClientSpan)) && Has(b, "/traced"),
            "the stream's span");
    }

    [Fact]
    public async Task Tracing_WithoutAClientTrace_StartsOne()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using HttpOrigin receiver = Receiver();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origin.Address, receiver.Address, "tracing = true"));
        using (RawHttp client = await RawHttp.ConnectAsync(proxy))
        {
            await client.SendAsync("GET /new HTTP/1.1\r\nHost: a\r\n\r\n");
            Assert.Equal(200, (await client.ReadResponseAsync()).Status);
        }

        string[] parent = Assert.Single(origin.Requests).Header("traceparent")!.Split('-');
        Assert.Matches("^[0-9a-f]{32}$", parent[1]);
        await ExportAsync(receiver, "/v1/traces", b => Has(b, Convert.FromHexString(parent[1])), "the new trace");
    }

    [Fact]
    public async Task WithoutTracing_TheRequestGoesOnUntouched()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using HttpOrigin receiver = Receiver();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(origin.Address, receiver.Address, ""));
        using (RawHttp client = await RawHttp.ConnectAsync(proxy))
        {
            await client.SendAsync("GET /a HTTP/1.1\r\nHost: a\r\n\r\n");
            Assert.Equal(200, (await client.ReadResponseAsync()).Status);
            await client.SendAsync($"GET /b HTTP/1.1\r\nHost: a\r\ntraceparent: 00-{ClientTrace}-{ClientSpan}-01\r\n\r\n");
            Assert.Equal(200, (await client.ReadResponseAsync()).Status);
        }

        Assert.Null(origin.Requests.Single(r => r.Target == "/a").Header("traceparent"));
        Assert.Equal($"00-{ClientTrace}-{ClientSpan}-01", origin.Requests.Single(r => r.Target == "/b").Header("traceparent"));
    }

    [Theory]
    [InlineData("tracing = true", "`tracing` exports spans by OTLP: set `otlp_endpoint` too")]
    [InlineData("otlp_endpoint = \"127.0.0.1:4318\"", "`otlp_endpoint`: \"127.0.0.1:4318\" is not an http or https URL")]
    [InlineData("otlp_endpoint = \"http://127.0.0.1:4318\"\notlp_protocol = \"udp\"", "`otlp_protocol`: \"udp\" is not a protocol")]
    [InlineData("trace_sample_ratio = 1.5", "`trace_sample_ratio` must be from 0 to 1, not 1.5")]
    public void BadTelemetryKeys_AreRefusedAtTheirLine(string keys, string message)
    {
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", $"[global]\n{keys}\n");
        var error = Assert.Throws<PluginProxy.Host.Configuration.ConfigException>(() => PluginProxy.Host.Configuration.ConfigLoader.Load(path));
        Assert.Contains(error.Errors, e => e.ToString().StartsWith(path + ":", StringComparison.Ordinal) && e.ToString().Contains(message, StringComparison.Ordinal));
    }
}
