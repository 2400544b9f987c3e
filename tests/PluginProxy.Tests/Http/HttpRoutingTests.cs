using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Http;

/// <summary>[[listener.route]]: host, path, path prefix, method and header conditions; the first match wins.</summary>
public class HttpRoutingTests : IAsyncLifetime
{
    private readonly Dictionary<string, HttpOrigin> _origins = new()
    {
        ["default"] = HttpOrigin.Respond("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\ndefault"),
        ["api"] = HttpOrigin.Respond("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\napi"),
        ["static"] = HttpOrigin.Respond("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nstatic"),
        ["admin"] = HttpOrigin.Respond("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nadmin"),
        ["canary"] = HttpOrigin.Respond("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\ncanary"),
        ["health"] = HttpOrigin.Respond("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhealth"),
    };

    private RunningProxy _proxy = null!;

    public async Task InitializeAsync()
    {
        string backends = string.Concat(_origins.Select(o => $$"""

            [[backend]]
            name = "{{o.Key}}"
            servers = [{ name = "s", address = "{{o.Value.Address}}" }]

            """));
        _proxy = await RunningProxy.StartAsync($$"""
            {{RunningProxy.GlobalSection()}}
            [[listener]]
            name = "web"
            bind = ["127.0.0.1:0"]
            supervisor = "http"
            backend = "default"

            [[listener.route]]
            header = { name = "X-Canary", value = "yes" }
            backend = "canary"

            [[listener.route]]
            path = "/health"
            backend = "health"

            [[listener.route]]
            host = "api.example.com"
            path_prefix = "/v1/"
            backend = "api"

            [[listener.route]]
            host = "*.static.example"
            backend = "static"

            [[listener.route]]
            path_prefix = "/admin"
            method = ["POST", "DELETE"]
            backend = "admin"
            {{backends}}
            """);
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        foreach (HttpOrigin origin in _origins.Values)
        {
            await origin.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("GET /v1/users HTTP/1.1\r\nHost: api.example.com\r\n", "api")]
    [InlineData("GET /v1/users HTTP/1.1\r\nHost: API.Example.COM:8080\r\n", "api")]
    [InlineData("GET http://api.example.com/v1/x HTTP/1.1\r\nHost: other\r\n", "api")]
    [InlineData("GET /v2/users HTTP/1.1\r\nHost: api.example.com\r\n", "default")]
    [InlineData("GET /v1/users HTTP/1.1\r\nHost: www.example.com\r\n", "default")]
    [InlineData("GET /img.png HTTP/1.1\r\nHost: cdn.static.example\r\n", "static")]
    [InlineData("GET /img.png HTTP/1.1\r\nHost: static.example\r\n", "default")]
    [InlineData("POST /admin/users HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n", "admin")]
    [InlineData("GET /admin/users HTTP/1.1\r\nHost: a\r\n", "default")]
    [InlineData("GET /health HTTP/1.1\r\nHost: a\r\n", "health")]
    [InlineData("GET /health?verbose HTTP/1.1\r\nHost: a\r\n", "health")]
    [InlineData("GET /healthz HTTP/1.1\r\nHost: a\r\n", "default")]
    [InlineData("GET /v1/users HTTP/1.1\r\nHost: api.example.com\r\nx-canary: yes\r\n", "canary")]
    [InlineData("GET /v1/users HTTP/1.1\r\nHost: api.example.com\r\nX-Canary: no\r\n", "api")]
    public async Task Request_GoesToTheFirstMatchingRoute_ElseTheDefault(string head, string expected)
    {
        using RawHttp client = await RawHttp.ConnectAsync(_proxy);

        await client.SendAsync(head + "\r\n");

        Assert.Equal(expected, (await client.ReadResponseAsync()).BodyText);
    }
}
