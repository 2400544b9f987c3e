using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace PluginProxy.Host.Admin;

/// <summary>
/// The admin endpoint (<c>admin</c> in [global]): the stats page at <c>/</c>, Prometheus metrics at <c>/metrics</c>,
/// and the runtime API under <c>/api/</c>. A deliberately small HTTP/1.1 responder: one GET per connection, then close.
/// </summary>
internal sealed class AdminServer : IDisposable
{
    private const int MaxRequestHead = 8192;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);

    private readonly ProxyHost _host;
    private readonly ILogger _log;
    private readonly Socket _socket;
    private readonly CancellationTokenSource _stop = new();

    public AdminServer(ProxyHost host, IPEndPoint endPoint, ILogger log)
    {
        _host = host;
        _log = log;
        _socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            _socket.Bind(endPoint);
            _socket.Listen(64);
        }
        catch
        {
            _socket.Dispose();
            throw;
        }

        EndPoint = (IPEndPoint)_socket.LocalEndPoint!;
    }

    public IPEndPoint EndPoint { get; }

    public void Start() => _ = AcceptLoopAsync();

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _socket.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex)
            {
                _log.LogWarning("Admin accept failed: {Error}", ex.SocketErrorCode);
                continue;
            }

            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(Socket client)
    {
        using (client)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            timeout.CancelAfter(RequestTimeout);
            try
            {
                var buffer = new byte[MaxRequestHead];
                int filled = 0;
                int headEnd;
                while ((headEnd = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) < 0)
                {
                    if (filled == buffer.Length)
                    {
                        await SendAsync(client, AdminResponse.Text(431, "Request header too large\n"), false, timeout.Token).ConfigureAwait(false);
                        return;
                    }

                    int n = await client.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, timeout.Token).ConfigureAwait(false);
                    if (n == 0)
                    {
                        return;
                    }

                    filled += n;
                }

                string head = Encoding.ASCII.GetString(buffer, 0, headEnd);
                string requestLine = head.Split("\r\n", 2)[0];
                string[] parts = requestLine.Split(' ');
                if (parts.Length != 3 || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
                {
                    await SendAsync(client, AdminResponse.Text(400, "Bad request\n"), false, timeout.Token).ConfigureAwait(false);
                    return;
                }

                bool isHead = parts[0] == "HEAD";
                AdminResponse response = parts[0] is "GET" or "HEAD"
                    ? AdminPages.Render(_host, parts[1])
                    : AdminResponse.Text(405, "Only GET and HEAD are allowed here\n");
                await SendAsync(client, response, isHead, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // A slow, vanished or reset admin client only loses its own answer.
            }
        }
    }

    private static async Task SendAsync(Socket client, AdminResponse response, bool headOnly, CancellationToken cancellationToken)
    {
        string head = $"HTTP/1.1 {response.Status} {AdminResponse.Reason(response.Status)}\r\n" +
                      $"Content-Type: {response.ContentType}\r\nContent-Length: {response.Body.Length}\r\n" +
                      "Cache-Control: no-cache\r\nConnection: close\r\n\r\n";
        await client.SendAsync(Encoding.ASCII.GetBytes(head), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        if (!headOnly && response.Body.Length > 0)
        {
            await client.SendAsync(response.Body, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }

        client.Shutdown(SocketShutdown.Send);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _socket.Dispose();
        _stop.Dispose();
    }
}
