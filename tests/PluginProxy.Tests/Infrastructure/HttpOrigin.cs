using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;

namespace PluginProxy.Tests.Infrastructure;

/// <summary>One request as the origin received it: the exact bytes, and what they say.</summary>
internal sealed record OriginRequest(int Connection, string Head, byte[] Body, byte[] Raw)
{
    public string RequestLine => Head[..Head.IndexOf("\r\n", StringComparison.Ordinal)];

    public string Method => RequestLine.Split(' ')[0];

    public string Target => RequestLine.Split(' ')[1];

    /// <summary>The value of the first header named <paramref name="name"/>, or null.</summary>
    public string? Header(string name) => Headers(name).FirstOrDefault();

    public IEnumerable<string> Headers(string name) =>
        Head.Split("\r\n").Skip(1).Where(l => l.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase)).Select(l => l[(name.Length + 1)..].Trim());
}

/// <summary>
/// A stub HTTP/1.1 origin on 127.0.0.1 that records every byte it receives, per connection, and answers each request
/// with what the test's handler returns (raw bytes, so a test can answer anything, valid or not). Keep-alive unless
/// the handler asks to close.
/// </summary>
internal sealed class HttpOrigin : IAsyncDisposable
{
    private readonly StubServer _server;
    private readonly Func<OriginRequest, Socket, Task<bool>> _handler;
    private int _connections;

    /// <param name="handler">Answers a request on the socket; returns false to close the connection after it.</param>
    /// <param name="bind">Where to listen: 127.0.0.1 on an ephemeral port unless given.</param>
    public HttpOrigin(Func<OriginRequest, Socket, Task<bool>> handler, System.Net.IPEndPoint? bind = null)
    {
        _handler = handler;
        _server = new StubServer(ServeAsync, bind: bind);
    }

    /// <summary>An origin answering every request with a fixed response.</summary>
    public static HttpOrigin Respond(string response) =>
        new(async (_, socket) => { await socket.SendAllAsync(Encoding.Latin1.GetBytes(response)); return true; });

    /// <summary>An origin that answers 200 with a body describing the request (method, target, body length).</summary>
    public static HttpOrigin Echo() => new(async (request, socket) =>
    {
        string body = $"{request.Method} {request.Target} body={request.Body.Length}\n";
        await socket.SendAllAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\n\r\n{body}"));
        return true;
    });

    /// <summary>
    /// An origin that answers every request with 200 and <paramref name="name"/> as the body, then closes the connection
    /// (<c>Connection: close</c>): each request makes a new server connection and says which server it reached.
    /// </summary>
    /// <param name="bind">Where to listen: 127.0.0.1 on an ephemeral port unless given.</param>
    public static HttpOrigin Named(string name, System.Net.IPEndPoint? bind = null) => new(async (_, socket) =>
    {
        await socket.SendAllAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {name.Length}\r\nConnection: close\r\n\r\n{name}"));
        return false;
    }, bind);

    /// <summary>The address it listens on.</summary>
    public System.Net.IPEndPoint EndPoint => _server.EndPoint;

    public string Address => _server.Address;

    public int Connections => Volatile.Read(ref _connections);

    public ConcurrentQueue<OriginRequest> Requests { get; } = new();

    public ConcurrentQueue<Exception> Errors => _server.Errors;

    public async Task<OriginRequest> WaitForRequestAsync(int count = 1)
    {
        await Wait.UntilAsync(() => Requests.Count >= count, $"{count} request(s) at the origin");
        return Requests.ElementAt(count - 1);
    }

    private async Task ServeAsync(Socket socket)
    {
        int connection = Interlocked.Increment(ref _connections);
        var buffer = new List<byte>();
        var chunk = new byte[65536];
        while (true)
        {
            OriginRequest? request = await ReadRequestAsync(socket, connection, buffer, chunk);
            if (request is null)
            {
                return;
            }

            Requests.Enqueue(request);
            if (!await _handler(request, socket))
            {
                socket.Shutdown(SocketShutdown.Send);
                return;
            }
        }
    }

    private static async Task<OriginRequest?> ReadRequestAsync(Socket socket, int connection, List<byte> buffer, byte[] chunk)
    {
        int headEnd;
        while ((headEnd = IndexOf(buffer, "\r\n\r\n"u8)) < 0)
        {
            if (!await FillAsync(socket, buffer, chunk))
            {
                return null;
            }
        }

        string head = Encoding.Latin1.GetString(buffer.GetRange(0, headEnd + 4).ToArray());
        int consumed = headEnd + 4;
        var body = new List<byte>();
        string? length = head.Split("\r\n").Skip(1).FirstOrDefault(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
        bool chunked = head.Split("\r\n").Skip(1).Any(l => l.StartsWith("Transfer-Encoding:", StringComparison.OrdinalIgnoreCase) && l.Contains("chunked", StringComparison.OrdinalIgnoreCase));
        if (chunked)
        {
            // Decode, but keep the raw bytes too: tests compare what arrived on the wire.
            while (true)
            {
                int lineEnd;
                while ((lineEnd = IndexOf(buffer, "\r\n"u8, consumed)) < 0)
                {
                    if (!await FillAsync(socket, buffer, chunk))
                    {
                        return null;
                    }
                }

                string sizeLine = Encoding.ASCII.GetString(buffer.GetRange(consumed, lineEnd - consumed).ToArray());
                int size = Convert.ToInt32(sizeLine.Split(';')[0], 16);
                consumed = lineEnd + 2;
                if (size == 0)
                {
                    int end;
                    while ((end = IndexOf(buffer, "\r\n\r\n"u8, consumed - 2)) < 0)
                    {
                        if (!await FillAsync(socket, buffer, chunk))
                        {
                            return null;
                        }
                    }

                    consumed = end + 4;
                    break;
                }

                while (buffer.Count < consumed + size + 2)
                {
                    if (!await FillAsync(socket, buffer, chunk))
                    {
                        return null;
                    }
                }

                body.AddRange(buffer.GetRange(consumed, size));
                consumed += size + 2;
            }
        }
        else if (length is not null)
        {
            int n = int.Parse(length["Content-Length:".Length..].Trim());
            while (buffer.Count < consumed + n)
            {
                if (!await FillAsync(socket, buffer, chunk))
                {
                    return null;
                }
            }

            body.AddRange(buffer.GetRange(consumed, n));
            consumed += n;
        }

        byte[] raw = buffer.GetRange(0, consumed).ToArray();
        buffer.RemoveRange(0, consumed);
        return new OriginRequest(connection, head, body.ToArray(), raw);
    }

    private static async Task<bool> FillAsync(Socket socket, List<byte> buffer, byte[] chunk)
    {
        int n;
        try
        {
            n = await socket.ReceiveAsync(chunk, SocketFlags.None);
        }
        catch (SocketException)
        {
            return false;
        }

        if (n == 0)
        {
            return false;
        }

        buffer.AddRange(chunk.AsSpan(0, n));
        return true;
    }

    private static int IndexOf(List<byte> buffer, ReadOnlySpan<byte> pattern, int start = 0)
    {
        for (int i = Math.Max(0, start); i + pattern.Length <= buffer.Count; i++)
        {
            bool match = true;
            for (int j = 0; j < pattern.Length; j++)
            {
                if (buffer[i + j] != pattern[j])
                {
                    match = false;
                    break;
                }
            }

            if (match)
            {
                return i;
            }
        }

        return -1;
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
