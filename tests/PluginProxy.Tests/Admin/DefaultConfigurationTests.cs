using System.Net;
using System.Net.Sockets;
using PluginProxy.Host.Backends;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Admin;

/// <summary>
/// The repository's proxy.toml, as a newcomer runs it (moved to free ports, so tests can run beside a proxy already on
/// 8080): it serves something useful with nothing else installed, and no proxied client reaches an admin action.
/// </summary>
public class DefaultConfigurationTests
{
    private static readonly string[] DefaultAddresses = ["127.0.0.1:8080", "127.0.0.1:8081", "127.0.0.1:8404", "127.0.0.1:8405"];

    private static async Task<RunningProxy> StartDefaultAsync()
    {
        string toml = File.ReadAllText(Path.Combine(RepoPaths.Root, "proxy.toml"));
        foreach (string address in DefaultAddresses)
        {
            Assert.Contains(address, toml);
            toml = toml.Replace(address, $"127.0.0.1:{FreePort()}");
        }

        return await RunningProxy.StartAsync(toml);
    }

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    private static async Task<RawResponse> SendAsync(RunningProxy proxy, string listener, string request)
    {
        using Socket socket = await proxy.ConnectAsync(listener);
        await socket.SendAllAsync(System.Text.Encoding.ASCII.GetBytes(request));
        byte[] answer = await socket.ReadToEndAsync();
        string text = System.Text.Encoding.Latin1.GetString(answer);
        int headEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        return new RawResponse(int.Parse(text[9..12]), text[..headEnd], answer[(headEnd + 4)..]);
    }

    [Fact]
    public async Task DefaultConfiguration_ServesTheDemoThroughBothListeners_WithNothingElseRunning()
    {
        await using RunningProxy proxy = await StartDefaultAsync();

        RawResponse web = await SendAsync(proxy, "web", "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        RawResponse raw = await SendAsync(proxy, "raw", "GET /echo HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");

        Assert.Equal(200, web.Status);
        Assert.StartsWith("PluginProxy http_echo on listener \"demo\": the request as it arrived from 127.0.0.1:", web.BodyText);
        Assert.Contains("\nGET / HTTP/1.1\nHost: localhost\n", web.BodyText);
        Assert.Contains("\nX-Forwarded-For: 127.0.0.1\n", web.BodyText);
        Assert.Equal(200, raw.Status);
        Assert.Contains("\nGET /echo HTTP/1.1\nHost: localhost\n", raw.BodyText);
        Assert.DoesNotContain("X-Forwarded-For", raw.BodyText);
    }

    [Fact]
    public async Task DefaultConfiguration_NeverProxiesToTheAdminEndpoint_SoAProxiedReloadChangesNothing()
    {
        await using RunningProxy proxy = await StartDefaultAsync();
        IPEndPoint admin = proxy.Host.AdminEndPoint!;
        var before = proxy.Host.Config;

        RawResponse reload = await SendAsync(proxy, "web", "POST /api/reload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        RawResponse rawReload = await SendAsync(proxy, "raw", "POST /api/reload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        RawResponse metrics = await SendAsync(proxy, "web", "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");

        // What answered is the demo service, and the running configuration is the same object: no reload happened.
        Assert.StartsWith("PluginProxy http_echo", reload.BodyText);
        Assert.StartsWith("PluginProxy http_echo", rawReload.BodyText);
        Assert.DoesNotContain("pluginproxy_listener", metrics.BodyText);
        Assert.Same(before, proxy.Host.Config);
        Assert.DoesNotContain(proxy.Host.Backends.Backends.SelectMany(b => b.ServerStates), (Server s) => s.Address.Equals(admin));

        // On the admin endpoint itself the action exists, and is refused without the credential.
        using var client = new HttpClient { BaseAddress = new Uri($"http://{admin}/") };
        using HttpResponseMessage direct = await client.PostAsync("/api/reload", null);
        Assert.Equal(HttpStatusCode.Forbidden, direct.StatusCode);
        Assert.Same(before, proxy.Host.Config);
    }
}
