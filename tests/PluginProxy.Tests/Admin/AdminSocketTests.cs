using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using PluginProxy.Host;
using PluginProxy.Host.Configuration;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Admin;

/// <summary>
/// <c>admin_socket</c>: a Unix socket only the proxy's user can open (as HAProxy's stats socket at level admin), on
/// which actions need no token: the file permissions are the credential.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class AdminSocketTests
{
    private static string Config(string socketPath, string origin = "127.0.0.1:9") => $$"""
        {{RunningProxy.GlobalSection($"admin_socket = \"{socketPath}\"")}}
        [[listener]]
        name = "web"
        bind = ["127.0.0.1:0"]
        supervisor = "http"
        backend = "app"

        [[backend]]
        name = "app"
        servers = [{ name = "origin", address = "{{origin}}" }]
        """;

    private static HttpClient Client(string socketPath) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (_, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        },
    }) { BaseAddress = new Uri("http://admin/"), Timeout = TimeSpan.FromSeconds(30) };

    [Fact]
    public async Task Socket_IsPrivateToTheProxysUser_ServesThePages_AndAllowsActionsWithoutAToken()
    {
        using var run = new TempDirectory();
        string socketPath = Path.Combine(run.Path, "admin.sock");
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(socketPath, origin.Address));
        var before = proxy.Host.Config;
        using HttpClient admin = Client(socketPath);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(socketPath));
        Assert.Contains("pluginproxy_listener_sessions_total{listener=\"web\"} 0", await admin.GetStringAsync("/metrics"));
        using HttpResponseMessage reload = await admin.PostAsync("/api/reload", null);

        Assert.Equal(HttpStatusCode.OK, reload.StatusCode);
        Assert.Equal("configuration reloaded\n", await reload.Content.ReadAsStringAsync());
        Assert.NotSame(before, proxy.Host.Config);
        Assert.Contains(proxy.Logs.Lines, l => l.Message == "Admin endpoint: configuration reload asked by the admin socket");
        Assert.Null(proxy.Host.AdminEndPoint); // no TCP address was asked for
    }

    [Fact]
    public async Task StaleSocketOfAStoppedProxy_IsReplaced_AndTheSocketIsRemovedOnStop()
    {
        using var run = new TempDirectory();
        string socketPath = Path.Combine(run.Path, "admin.sock");
        using (var stale = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            // Bound then moved, so closing it leaves the file behind, as a killed process does.
            stale.Bind(new UnixDomainSocketEndPoint(socketPath + ".old"));
            File.Move(socketPath + ".old", socketPath);
        }

        Assert.True(File.Exists(socketPath));
        RunningProxy proxy = await RunningProxy.StartAsync(Config(socketPath));
        try
        {
            using HttpClient admin = Client(socketPath);
            Assert.Equal("ok\n", await admin.GetStringAsync("/health"));
        }
        finally
        {
            await proxy.DisposeAsync();
        }

        Assert.False(File.Exists(socketPath));
    }

    [Fact]
    public async Task LiveSocketOrAnotherFileAtThePath_IsRefusedAtStart()
    {
        using var run = new TempDirectory();
        string live = Path.Combine(run.Path, "live.sock");
        using var other = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        other.Bind(new UnixDomainSocketEndPoint(live));
        other.Listen();
        string file = run.Write("notes.txt", "not a socket\n");

        string inUse = await StartFailsAsync(run, live);
        string notSocket = await StartFailsAsync(run, file);

        Assert.EndsWith($"proxy.toml: `admin_socket` {live} is in use by another process (is a proxy already running?)", inUse);
        Assert.EndsWith($"proxy.toml: `admin_socket` {file} exists and is not a socket; remove it or choose another path", notSocket);
        Assert.Equal("not a socket\n", File.ReadAllText(file));
    }

    [Fact]
    public void SocketInAFolderThatDoesNotExist_IsRefusedAtTheKey()
    {
        using var run = new TempDirectory();
        string path = run.Write("proxy.toml", Config(Path.Combine(run.Path, "no", "such", "admin.sock")));

        ConfigError error = Assert.Single(Assert.Throws<ConfigException>(() => ConfigLoader.Load(path)).Errors);

        Assert.Equal(3, error.Where.Line);
        Assert.Equal($"`admin_socket`: the folder {Path.Combine(run.Path, "no", "such")} does not exist; create it (writable by the proxy's user) or choose another path", error.Message);
    }

    private static async Task<string> StartFailsAsync(TempDirectory run, string socketPath)
    {
        string path = run.Write("proxy.toml", Config(socketPath));
        ProxyHost host = await ProxyHost.BuildAsync(ConfigLoader.Load(path), NullLoggerFactory.Instance, new CapturedAccessLog());
        try
        {
            return Assert.Single((await Assert.ThrowsAsync<StartupException>(host.StartAsync)).Problems);
        }
        finally
        {
            await host.DisposeAsync();
        }
    }
}
