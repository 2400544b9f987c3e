using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PluginProxy.Tests.Infrastructure;

/// <summary>
/// A real <c>redis-server</c> (Debian's package; <c>.ci/run</c> installs it) on a free loopback port, with nothing
/// saved to disk, stopped with the test. It can be killed and started again on the same port, and paused (SIGSTOP) to
/// play a server that accepts connections and answers nothing.
/// </summary>
internal sealed class RedisServer : IAsyncDisposable
{
    private readonly string _program;
    private Process? _process;

    private RedisServer(string program, int port)
    {
        _program = program;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The server's address as a <c>[[store]]</c>'s <c>address</c> takes it.</summary>
    public string Address => $"127.0.0.1:{Port}";

    /// <summary>The path of redis-server, or null when it is not installed (the test then skips, saying how to install it).</summary>
    public static string? Program => Tools.FindOnPath("redis-server");

    /// <summary>The reason to skip when redis-server is missing.</summary>
    public const string Missing = "redis-server is not installed: apt-get install redis-server (.ci/run installs it)";

    /// <summary>Starts a server on a free port and waits until it answers PING.</summary>
    public static async Task<RedisServer> StartAsync()
    {
        string program = Program ?? throw new InvalidOperationException(Missing);
        var server = new RedisServer(program, FreePort());
        await server.RestartAsync();
        return server;
    }

    /// <summary>Starts the server again on its port (after <see cref="Kill"/>); its data is gone.</summary>
    public async Task RestartAsync()
    {
        var start = new ProcessStartInfo(_program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in new[] { "--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no", "--daemonize", "no" })
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await Wait.ForAsync(PingsAsync, $"redis-server answering on {Address}");
    }

    /// <summary>Kills the server at once (no shutdown): connections reset, the port refuses.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            process.WaitForExit();
        }
    }

    /// <summary>Stops the process without closing anything: connections stay open and nothing answers.</summary>
    public void Pause() => Signal("STOP");

    public void Resume() => Signal("CONT");

    private void Signal(string name)
    {
        using Process kill = Process.Start("kill", ["-" + name, _process!.Id.ToString()])!;
        kill.WaitForExit();
    }

    /// <summary>Runs one command (inline syntax, such as "GET key") and returns the raw reply line.</summary>
    public async Task<string> CommandAsync(string command)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, Port);
        await socket.SendAsync(Encoding.ASCII.GetBytes(command + "\r\n"), SocketFlags.None);
        var buffer = new byte[4096];
        int n = await socket.ReceiveAsync(buffer, SocketFlags.None).WaitAsync(TimeSpan.FromSeconds(5));
        return Encoding.ASCII.GetString(buffer, 0, n).TrimEnd();
    }

    private async Task<bool> PingsAsync()
    {
        try
        {
            return await CommandAsync("PING") == "+PONG";
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public ValueTask DisposeAsync()
    {
        if (_process is { } process)
        {
            if (!process.HasExited)
            {
                Resume();
            }

            Kill();
            process.Dispose();
        }

        return ValueTask.CompletedTask;
    }
}
