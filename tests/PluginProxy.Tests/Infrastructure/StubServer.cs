using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace PluginProxy.Tests.Infrastructure;

/// <summary>
/// A real TCP server on 127.0.0.1 with an ephemeral port, running <c>handler</c> for each connection it accepts.
/// It stands in for an origin server in end-to-end tests.
/// </summary>
internal sealed class StubServer : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly Func<Socket, Task> _handler;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<Task> _connections = [];
    private readonly ConcurrentBag<Socket> _sockets = [];
    private readonly Task _acceptLoop;
    private int _accepted;

    /// <param name="bind">Where to listen: 127.0.0.1 on an ephemeral port unless given.</param>
    public StubServer(Func<Socket, Task> handler, int backlog = 128, IPEndPoint? bind = null)
    {
        _handler = handler;
        _listener = new Socket((bind?.Address ?? IPAddress.Loopback).AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(bind ?? new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(backlog);
        EndPoint = (IPEndPoint)_listener.LocalEndPoint!;
        _acceptLoop = AcceptLoopAsync();
    }

    public IPEndPoint EndPoint { get; }

    public string Address => PluginProxy.Abstractions.LogNames.Format(EndPoint);

    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Exceptions thrown by handlers (a handler failing is a test failure unless the test expects it).</summary>
    public ConcurrentQueue<Exception> Errors { get; } = new();

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception)
            {
                return;
            }

            Interlocked.Increment(ref _accepted);
            _sockets.Add(socket);
            _connections.Add(Task.Run(async () =>
            {
                try
                {
                    await _handler(socket);
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                {
                    Errors.Enqueue(ex);
                }
                finally
                {
                    socket.Dispose();
                }
            }));
        }
    }

    /// <summary>Echoes every byte back until the client half-closes, then half-closes too.</summary>
    public static StubServer Echo() => new(async socket =>
    {
        var buffer = new byte[65536];
        while (true)
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None);
            if (n == 0)
            {
                socket.Shutdown(SocketShutdown.Send);
                return;
            }

            await socket.SendAsync(buffer.AsMemory(0, n), SocketFlags.None);
        }
    });

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Dispose();
        foreach (Socket socket in _sockets)
        {
            socket.Dispose();
        }

        await _acceptLoop;
        await Task.WhenAll(_connections).WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { });
        _stop.Dispose();
    }
}
