using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace PluginProxy.Tests.Infrastructure;

/// <summary>
/// A stub server that can be stopped and started again on the same address, as a server that goes down and comes back.
/// While stopped, connections are refused. The port stays reserved meanwhile: a second socket bound to it with
/// SO_REUSEPORT, never listening, holds it, so no other test's socket can take it between a stop and a start.
/// </summary>
internal sealed class RestartableServer : IAsyncDisposable
{
    private const int SolSocket = 1;
    private const int SoReusePort = 15;

    private readonly Socket _holder;
    private readonly Func<Socket, Task> _handler;
    private readonly ConcurrentBag<Task> _connections = [];
    private readonly object _gate = new();
    private Socket? _listener;
    private Task _acceptLoop = Task.CompletedTask;
    private int _accepted;

    /// <summary>Starts listening at once, running <paramref name="handler"/> for each connection it accepts.</summary>
    public RestartableServer(Func<Socket, Task> handler)
    {
        _handler = handler;
        _holder = NewSocket();
        _holder.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        EndPoint = (IPEndPoint)_holder.LocalEndPoint!;
        Start();
    }

    public IPEndPoint EndPoint { get; }

    public string Address => $"127.0.0.1:{EndPoint.Port}";

    /// <summary>Connections accepted since the server was created, over every start.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Listens on the address again; connections are accepted from now on.</summary>
    public void Start()
    {
        lock (_gate)
        {
            if (_listener is not null)
            {
                throw new InvalidOperationException("the server is already running");
            }

            Socket listener = NewSocket();
            listener.Bind(EndPoint);
            listener.Listen(128);
            _listener = listener;
            _acceptLoop = AcceptLoopAsync(listener);
        }
    }

    /// <summary>Closes the listening socket: from when this returns, connections are refused. Open connections go on.</summary>
    public async Task StopAsync()
    {
        Socket? listener;
        Task loop;
        lock (_gate)
        {
            (listener, _listener) = (_listener, null);
            loop = _acceptLoop;
        }

        listener?.Dispose();
        await loop;
    }

    private static Socket NewSocket()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.SetRawSocketOption(SolSocket, SoReusePort, BitConverter.GetBytes(1));
        return socket;
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync();
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // Stopped.
                return;
            }

            Interlocked.Increment(ref _accepted);
            _connections.Add(Task.Run(async () =>
            {
                using (socket)
                {
                    try
                    {
                        await _handler(socket);
                    }
                    catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                    {
                        // The peer went away: a health check closes right after connecting.
                    }
                }
            }));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _holder.Dispose();
        await Task.WhenAll(_connections).WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { });
    }
}
