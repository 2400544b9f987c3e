using System.Net.Sockets;
using System.Text;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Http;

/// <summary>
/// Route bypass by encoding (issue 9, item 4), through a real proxy: a listener routes <c>path_prefix = "/admin"</c> to
/// one backend and everything else to a default one. Each encoding is either routed as its normalised form, with the
/// origin receiving that normalised path, or refused with 400 and a specific access-log detail, never forwarded.
/// </summary>
public class PathNormalisationTests : IAsyncLifetime
{
    private readonly HttpOrigin _admin = Named("admin");
    private readonly HttpOrigin _default = Named("default");
    private RunningProxy _proxy = null!;

    /// <summary>An origin that answers with its name and the request-target it received.</summary>
    private static HttpOrigin Named(string name) => new(async (request, socket) =>
    {
        string body = $"{name} {request.Target}";
        await socket.SendAllAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\n\r\n{body}"));
        return true;
    });

    public async Task InitializeAsync()
    {
        _proxy = await RunningProxy.StartAsync($$"""
            {{RunningProxy.GlobalSection()}}
            [[listener]]
            name = "web"
            bind = ["127.0.0.1:0"]
            supervisor = "http"
            backend = "default"

            [[listener.route]]
            path_prefix = "/admin"
            backend = "admin"

            [[backend]]
            name = "admin"
            servers = [{ name = "s", address = "{{_admin.Address}}" }]

            [[backend]]
            name = "default"
            servers = [{ name = "s", address = "{{_default.Address}}" }]
            """);
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _admin.DisposeAsync();
        await _default.DisposeAsync();
    }

    [Theory]
    [InlineData("/admin", "admin", "/admin")]
    [InlineData("/%61dmin", "admin", "/admin")]
    [InlineData("/%61%64%6D%69%6e", "admin", "/admin")]
    [InlineData("//admin", "admin", "/admin")]
    [InlineData("///admin//users", "admin", "/admin/users")]
    [InlineData("/x/../admin", "admin", "/admin")]
    [InlineData("/./admin", "admin", "/admin")]
    [InlineData("/x/%2e%2e/admin", "admin", "/admin")]
    [InlineData("/x/%2E%2e/admin", "admin", "/admin")]
    [InlineData("/x/.%2E/admin", "admin", "/admin")]
    [InlineData("/%2e/admin", "admin", "/admin")]
    [InlineData("/x//../admin", "admin", "/admin")]
    [InlineData("/x/y/../../admin/./users/", "admin", "/admin/users/")]
    [InlineData("/admin/.", "admin", "/admin/")]
    [InlineData("/adm%69n/%3a%c3%a9", "admin", "/admin/%3A%C3%A9")]
    [InlineData("/x/%2e%2e/admin?next=/../%2F&q=%2e", "admin", "/admin?next=/../%2F&q=%2e")]
    [InlineData("/a/%2e/b", "default", "/a/b")]
    [InlineData("/admin/../x", "default", "/x")]
    [InlineData("/%252e%252e/admin", "default", "/%252e%252e/admin")]
    [InlineData("/x/%252e%252e/admin", "default", "/x/%252e%252e/admin")]
    [InlineData("/%7Euser/%5f%2D", "default", "/~user/_-")]
    [InlineData("/x/.../admin", "default", "/x/.../admin")]
    [InlineData("/ADMIN", "default", "/ADMIN")]
    [InlineData("http://a.example/%61dmin/", "admin", "/admin/")]
    public async Task EncodedPath_IsRoutedAsItsNormalisedForm_AndTheOriginSeesThatForm(string target, string backend, string forwarded)
    {
        using RawHttp client = await RawHttp.ConnectAsync(_proxy);

        await client.SendAsync($"GET {target} HTTP/1.1\r\nHost: a\r\n\r\n");

        RawResponse response = await client.ReadResponseAsync();
        Assert.Equal(200, response.Status);
        Assert.Equal($"{backend} {forwarded}", response.BodyText);
        // The access log keeps the target as the client sent it.
        await _proxy.AccessLog.WaitForAsync(l => l.Contains($"\"GET {target} HTTP/1.1\""), "the request as received in the access log");
    }

    [Theory]
    [InlineData("/admin%2Fx", "encoded slash or backslash in path")]
    [InlineData("/x%2f..%2fadmin", "encoded slash or backslash in path")]
    [InlineData("/x/%2e%2e%2Fadmin", "encoded slash or backslash in path")]
    [InlineData("/x/..%5cadmin", "encoded slash or backslash in path")]
    [InlineData("/x\\..\\admin", "backslash in path")]
    [InlineData("/%2E%2E/admin", "path climbs above the root")]
    [InlineData("/../admin", "path climbs above the root")]
    [InlineData("/x/../../admin", "path climbs above the root")]
    [InlineData("/admin%00.html", "encoded NUL in path")]
    [InlineData("/adm%6", "malformed percent-encoding in path")]
    [InlineData("/adm%zzin", "malformed percent-encoding in path")]
    [InlineData("/x/..;/admin", "dot-segment with parameters in path")]
    [InlineData("/x/%2e%2e;a=b/admin", "dot-segment with parameters in path")]
    [InlineData("/admin#top", "fragment in request target")]
    public async Task PathThatCannotBeNormalisedSafely_IsRefusedWith400_AndNeverForwarded(string target, string detail)
    {
        using RawHttp client = await RawHttp.ConnectAsync(_proxy);

        await client.SendAsync($"GET {target} HTTP/1.1\r\nHost: a\r\n\r\n");

        RawResponse response = await client.ReadResponseAsync();
        Assert.Equal(400, response.Status);
        string line = await _proxy.AccessLog.WaitForAsync(l => l.Contains(" 400 "), "the refused request in the access log");
        Assert.Contains("bad_request", line);
        Assert.Contains($"\"{detail}\"", line);
        Assert.Equal(0, _admin.Connections + _default.Connections);
    }

    [Fact]
    public async Task UriBalance_HashesTheNormalisedPath()
    {
        await using HttpOrigin a = Named("a");
        await using HttpOrigin b = Named("b");
        await using RunningProxy proxy = await RunningProxy.StartAsync($$"""
            {{RunningProxy.GlobalSection()}}
            [[listener]]
            name = "web"
            bind = ["127.0.0.1:0"]
            supervisor = "http"
            backend = "app"

            [[backend]]
            name = "app"
            balance = "uri"
            servers = [{ name = "a", address = "{{a.Address}}" }, { name = "b", address = "{{b.Address}}" }]
            """);
        string[][] groups =
        [
            ["/admin", "/%61dmin", "//admin", "/x/../admin"],
            ["/img/logo.png", "/img/./logo.png", "/img//logo%2epng", "/%69mg/logo.png"],
            ["/shop/cart", "/shop/x/../cart", "/shop/%63art", "//shop/cart"],
        ];

        foreach (string[] group in groups)
        {
            string first = await ServerForAsync(proxy, group[0]);
            foreach (string variant in group[1..])
            {
                Assert.Equal(first, await ServerForAsync(proxy, variant));
            }
        }
    }

    private static async Task<string> ServerForAsync(RunningProxy proxy, string target)
    {
        using RawHttp client = await RawHttp.ConnectAsync(proxy);
        await client.SendAsync($"GET {target} HTTP/1.1\r\nHost: a\r\n\r\n");
        string body = (await client.ReadResponseAsync()).BodyText;
        return body[..body.IndexOf(' ')];
    }

    [Fact]
    public async Task NormalisedRequests_KeepTheConnectionAlive()
    {
        using RawHttp client = await RawHttp.ConnectAsync(_proxy);

        await client.SendAsync("GET /x/%2e%2e/admin HTTP/1.1\r\nHost: a\r\n\r\nGET /admin/%2E%2E/x HTTP/1.1\r\nHost: a\r\n\r\n");

        Assert.Equal("admin /admin", (await client.ReadResponseAsync()).BodyText);
        Assert.Equal("default /x", (await client.ReadResponseAsync()).BodyText);
        Assert.True(client.Socket.Connected);
    }
}
