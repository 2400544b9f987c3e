using System.Net;
using System.Net.Sockets;
using System.Text;
using PluginProxy.Host.Backends;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Reload;

/// <summary>What the configuration reload tests share: rewriting proxy.toml and reloading, plain requests, taken ports.</summary>
internal static class ReloadTestKit
{
    /// <summary>Rewrites the proxy's proxy.toml with <paramref name="toml"/> and reloads it, as SIGHUP does.</summary>
    public static Task<IReadOnlyList<string>> ReloadWithAsync(this RunningProxy proxy, string toml)
    {
        File.WriteAllText(ConfigPath(proxy), toml);
        return proxy.Host.ReloadConfigurationAsync();
    }

    public static string ConfigPath(RunningProxy proxy) => Path.Combine(proxy.Directory, "proxy.toml");

    /// <summary>Where <paramref name="text"/> first appears in the proxy's proxy.toml, as <c>file:line:column</c>.</summary>
    public static string SpotOf(RunningProxy proxy, string text)
    {
        string[] lines = File.ReadAllLines(ConfigPath(proxy));
        int line = Array.FindIndex(lines, l => l.Contains(text, StringComparison.Ordinal));
        Assert.True(line >= 0, $"{text} is not in proxy.toml");
        return $"{ConfigPath(proxy)}:{line + 1}:{lines[line].IndexOf(text, StringComparison.Ordinal) + 1}";
    }

    /// <summary>One GET on a new connection that asks to close after it: everything the proxy answered.</summary>
    public static async Task<string> GetAsync(IPEndPoint endPoint, string path = "/")
    {
        using Socket client = await SocketExtensions.ConnectAsync(endPoint);
        await client.SendAllAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"));
        return Encoding.Latin1.GetString(await client.ReadToEndAsync());
    }

    /// <summary>A socket listening on an ephemeral loopback port, as another process would hold it.</summary>
    public static Socket ListenElsewhere()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.Listen(1);
        return socket;
    }

    /// <summary>A loopback port nobody listens on right now (bound, read, released).</summary>
    public static int FreePort()
    {
        using Socket socket = ListenElsewhere();
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    public static int PortOf(Socket socket) => ((IPEndPoint)socket.LocalEndPoint!).Port;

    /// <summary>The only server of the proxy's first backend.</summary>
    public static Server OnlyServer(RunningProxy proxy) => Assert.Single(proxy.Host.Backends.Backends[0].ServerStates);
}
