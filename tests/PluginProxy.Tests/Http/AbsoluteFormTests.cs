using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Http;

/// <summary>
/// Absolute-form request targets (issue 9, item 3; RFC 9112 §3.2.2): forwarded in origin form with Host set to the
/// target's authority, whatever Host the client sent; what cannot be trusted in an authority is refused.
/// </summary>
public class AbsoluteFormTests
{
    [Theory]
    [InlineData("GET http://a.example/x HTTP/1.1\r\nHost: b.example\r\n", "GET /x HTTP/1.1", "a.example")]
    [InlineData("GET http://a.example:8080/p/../q?x=1&y=/../ HTTP/1.1\r\nHost: b.example\r\nX-A: 1\r\n", "GET /q?x=1&y=/../ HTTP/1.1", "a.example:8080")]
    [InlineData("GET HTTPS://A.example HTTP/1.1\r\nHost: b\r\n", "GET / HTTP/1.1", "A.example")]
    [InlineData("GET http://a.example?q=1 HTTP/1.1\r\nHost: a.example\r\n", "GET /?q=1 HTTP/1.1", "a.example")]
    [InlineData("GET http://[::1]:81/x HTTP/1.1\r\nHost: b\r\n", "GET /x HTTP/1.1", "[::1]:81")]
    [InlineData("GET http://a.example/x HTTP/1.0\r\n", "GET /x HTTP/1.0", "a.example")]
    public async Task AbsoluteFormTarget_IsForwardedInOriginForm_WithHostSetToItsAuthority(string head, string requestLine, string host)
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync(head + "\r\n");

        Assert.Equal(200, (await client.ReadResponseAsync()).Status);
        OriginRequest received = await origin.WaitForRequestAsync();
        Assert.Equal(requestLine, received.RequestLine);
        Assert.Equal([host], received.Headers("Host"));
    }

    [Fact]
    public async Task AbsoluteFormTarget_HostKeepsItsPlace_AndXForwardedHostIsTheAuthority()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address, "forwardfor = true"));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync("GET http://a.example/x HTTP/1.1\r\nX-Before: 1\r\nHost: b.example\r\nX-After: 2\r\n\r\n");

        await client.ReadResponseAsync();
        OriginRequest received = await origin.WaitForRequestAsync();
        Assert.StartsWith("GET /x HTTP/1.1\r\nX-Before: 1\r\nHost: a.example\r\nX-After: 2\r\n", received.Head);
        Assert.Equal("a.example", received.Header("X-Forwarded-Host"));
    }

    [Fact]
    public async Task Scripts_SeeTheSchemeAndAuthority_AsHost_AndTheOriginFormTarget()
    {
        using var scripts = new ScriptFolder();
        scripts.Write("seen.csx", """
            Request.Headers["X-Seen"] = $"{Request.Scheme}|{Request.Authority}|{Request.Host}|{Request.Headers["Host"]}|{Request.Path}|{Request.Query}|{Request.Target}";
            """);
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(scripts.Config(origin.Address, "request_analyzers = [\"seen.csx\"]"));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync("GET http://a.example/x/%2e%2e/%61dmin?q=%2e HTTP/1.1\r\nHost: b.example\r\n\r\n");

        await client.ReadResponseAsync();
        OriginRequest received = await origin.WaitForRequestAsync();
        Assert.Equal("http|a.example|a.example|a.example|/admin|?q=%2e|/admin?q=%2e", received.Header("X-Seen"));
        Assert.Equal("/admin?q=%2e", received.Target);
    }

    [Theory]
    [InlineData("GET http://user:secret@a.example/x HTTP/1.1\r\nHost: a.example\r\n", "userinfo in request target")]
    [InlineData("GET http://@a.example/x HTTP/1.1\r\nHost: a.example\r\n", "userinfo in request target")]
    [InlineData("GET http:///x HTTP/1.1\r\nHost: a\r\n", "invalid authority in request target")]
    [InlineData("GET http://a\"b/x HTTP/1.1\r\nHost: a\r\n", "invalid authority in request target")]
    [InlineData("GET ftp://a.example/x HTTP/1.1\r\nHost: a.example\r\n", "request target scheme is not http or https")]
    [InlineData("GET http:a.example/x HTTP/1.1\r\nHost: a.example\r\n", "invalid request target")]
    [InlineData("GET http://a.example/x HTTP/1.1\r\n", "missing Host")]
    [InlineData("GET http://a.example/x#frag HTTP/1.1\r\nHost: a.example\r\n", "fragment in request target")]
    [InlineData("GET http://a.example/../x HTTP/1.1\r\nHost: a.example\r\n", "path climbs above the root")]
    public async Task UntrustworthyAbsoluteFormTarget_IsRefusedWith400(string head, string detail)
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address));
        using RawHttp client = await RawHttp.ConnectAsync(proxy);

        await client.SendAsync(head + "\r\n");

        Assert.Equal(400, (await client.ReadResponseAsync()).Status);
        string line = await proxy.AccessLog.WaitForAsync(l => l.Contains(" 400 "), "the refused request in the access log");
        Assert.Contains($"\"{detail}\"", line);
        Assert.Equal(0, origin.Connections);
    }
}
