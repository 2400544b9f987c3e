using System.Net;
using System.Net.Sockets;
using PluginProxy.Abstractions;
using PluginProxy.Http.Engine.H2;

namespace PluginProxy.Tests.Http.H2;

/// <summary>A loopback listener on an ephemeral port that runs <see cref="Http2ClientConnection"/> with a handler on every connection (h2c with prior knowledge).</summary>
internal sealed class Http2TestServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<Http2ServerStream, ValueTask> _handler;
    private readonly List<Task> _connections = [];
    private readonly Task _accepting;

    public Http2TestServer(Func<Http2ServerStream, ValueTask>? handler = null)
    {
        _handler = handler ?? EchoHandler.HandleAsync;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public string Url(string path) => $"http://127.0.0.1:{Port}{path}";

    /// <summary>The connections that ended with a GOAWAY error code.</summary>
    public List<string> Errors { get; } = [];

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

            lock (_connections)
            {
                _connections.Add(Task.Run(() => RunAsync(socket)));
            }
        }
    }

    private async Task RunAsync(Socket socket)
    {
        using var transport = new SocketTransport(socket);
        var connection = new Http2ClientConnection(transport, _handler);
        await connection.RunAsync();
        if (connection.ErrorCode is { } code)
        {
            lock (Errors)
            {
                Errors.Add(code.ToString());
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        await _accepting;
        Task[] running;
        lock (_connections)
        {
            running = [.. _connections];
        }

        await Task.WhenAll(running).WaitAsync(TimeSpan.FromSeconds(10));
    }
}
