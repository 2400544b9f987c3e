using System.Net;
using System.Net.Sockets;

namespace PluginProxy.Tests.Infrastructure;

/// <summary>
/// A loopback port that refuses connections for as long as this object lives: the port is bound (so no other test
/// can take it) but never listened on, so the kernel answers a connect with a reset.
/// </summary>
internal sealed class DeadPort : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    public DeadPort()
    {
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        Address = $"127.0.0.1:{((IPEndPoint)_socket.LocalEndPoint!).Port}";
    }

    public string Address { get; }

    public void Dispose() => _socket.Dispose();
}

/// <summary>
/// A loopback port whose accept queue is full: new connections get no SYN-ACK, so connecting to it hangs until the
/// connector's timeout, as with a server that is overloaded or behind a black-holing firewall.
/// </summary>
internal sealed class BlackHolePort : IDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly List<Socket> _fillers = [];

    private BlackHolePort()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(0);
        Address = $"127.0.0.1:{((IPEndPoint)_listener.LocalEndPoint!).Port}";
    }

    public string Address { get; }

    public static async Task<BlackHolePort> CreateAsync()
    {
        var port = new BlackHolePort();
        // Fill the accept queue (never accepted) until a connect no longer completes.
        for (int i = 0; i < 16; i++)
        {
            var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            port._fillers.Add(filler);
            Task connect = filler.ConnectAsync(port._listener.LocalEndPoint!);
            if (await Task.WhenAny(connect, Task.Delay(300)) != connect)
            {
                return port;
            }
        }

        port.Dispose();
        throw new InvalidOperationException("the accept queue never filled up");
    }

    public void Dispose()
    {
        foreach (Socket filler in _fillers)
        {
            filler.Dispose();
        }

        _listener.Dispose();
    }
}
