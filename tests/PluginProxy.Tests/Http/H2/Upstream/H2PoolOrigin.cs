using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using PluginProxy.Abstractions;
using PluginProxy.Http.Engine.H2;
using PluginProxy.TestKit;

namespace PluginProxy.Tests.Http.H2.Upstream;

/// <summary>
/// An HTTP/2 server for the pool tests: every connection the pool makes with <see cref="ConnectAsync"/> is served by the
/// server-role <see cref="Http2ClientConnection"/> with a handler and limits, over a loopback socket (h2c with prior
/// knowledge) or, with <c>inMemory</c>, an in-memory pair whose client end the test can check for disposal.
/// </summary>
internal sealed class H2PoolOrigin : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<Http2ServerStream, ValueTask> _handler;
    private readonly Http2Limits? _limits;
    private readonly bool _inMemory;
    private readonly ConcurrentQueue<Task> _runs = new();
    private readonly Task _accepting;

    public H2PoolOrigin(Func<Http2ServerStream, ValueTask>? handler = null, Http2Limits? limits = null, bool inMemory = false)
    {
        _handler = handler ?? EchoHandler.HandleAsync;
        _limits = limits;
        _inMemory = inMemory;
        _listener.Start();
        _accepting = inMemory ? Task.CompletedTask : AcceptAsync();
    }

    /// <summary>The server side of every connection made, in order.</summary>
    public ConcurrentQueue<Http2ClientConnection> Connections { get; } = new();

    /// <summary>The client ends handed to the pool (in memory only).</summary>
    public ConcurrentQueue<InMemoryTransport> ClientEnds { get; } = new();

    /// <summary>How many connections ended on the server's side.</summary>
    public int Ended => _ended;

    private int _ended;

    /// <summary>The pool's connect function.</summary>
    public async ValueTask<Transport?> ConnectAsync(CancellationToken token)
    {
        if (_inMemory)
        {
            (InMemoryTransport client, InMemoryTransport server) = InMemoryTransport.CreatePair();
            ClientEnds.Enqueue(client);
            Serve(server);
            return client;
        }

        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(_listener.LocalEndpoint, token);
        return new SocketTransport(socket);
    }

    private async Task AcceptAsync()
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            Serve(new SocketTransport(socket));
        }
    }

    private void Serve(Transport transport)
    {
        var connection = new Http2ClientConnection(transport, _handler, _limits);
        Connections.Enqueue(connection);
        _runs.Enqueue(Task.Run(async () =>
        {
            try
            {
                await connection.RunAsync();
            }
            finally
            {
                transport.Dispose();
                Interlocked.Increment(ref _ended);
            }
        }));
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        await _accepting;
        foreach (Http2ClientConnection connection in Connections)
        {
            connection.BeginShutdown();
        }

        await Task.WhenAll(_runs).WaitAsync(TimeSpan.FromSeconds(10));
    }
}
