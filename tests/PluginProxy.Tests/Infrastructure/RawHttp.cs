using System.Net.Sockets;
using System.Text;

namespace PluginProxy.Tests.Infrastructure;

/// <summary>A response as read off a raw socket.</summary>
internal sealed record RawResponse(int Status, string Head, byte[] Body)
{
    public string BodyText => Encoding.Latin1.GetString(Body);

    public string? Header(string name) => Head.Split("\r\n").Skip(1)
        .Where(l => l.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase)).Select(l => l[(name.Length + 1)..].Trim()).FirstOrDefault();
}

/// <summary>A minimal HTTP/1.1 client over a raw socket, for sending exact (and malformed) bytes and reading exact responses.</summary>
internal sealed class RawHttp : IDisposable
{
    private readonly List<byte> _pending = [];
    private readonly byte[] _chunk = new byte[65536];

    private readonly Stream? _tls;

    private RawHttp(Socket socket, Stream? tls = null)
    {
        Socket = socket;
        _tls = tls;
    }

    public Socket Socket { get; }

    /// <summary>A client speaking over an established TLS stream (<paramref name="tls"/> runs over <paramref name="socket"/>).</summary>
    public static RawHttp OverTls(Socket socket, Stream tls) => new(socket, tls);

    public static async Task<RawHttp> ConnectAsync(RunningProxy proxy) => new(await proxy.ConnectAsync());

    /// <summary>Connects to <paramref name="endPoint"/> (a proxy running as a process, for one).</summary>
    public static async Task<RawHttp> ConnectAsync(System.Net.IPEndPoint endPoint) => new(await SocketExtensions.ConnectAsync(endPoint));

    /// <summary>Connects from the loopback address <paramref name="source"/> (127.0.0.x), to appear as another client.</summary>
    public static async Task<RawHttp> ConnectFromAsync(RunningProxy proxy, System.Net.IPAddress source)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new System.Net.IPEndPoint(source, 0));
            await socket.ConnectAsync(proxy.EndPoint());
            return new RawHttp(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public Task SendAsync(string text) => SendAsync(Encoding.Latin1.GetBytes(text));

    public Task SendAsync(byte[] bytes) => _tls is null ? Socket.SendAllAsync(bytes) : _tls.WriteAsync(bytes).AsTask();

    /// <summary>Reads one response (head, then a body framed by Content-Length, chunked coding, or the close).</summary>
    public async Task<RawResponse> ReadResponseAsync(bool headRequest = false)
    {
        int headEnd;
        while ((headEnd = Find("\r\n\r\n"u8)) < 0)
        {
            if (!await FillAsync())
            {
                throw new EndOfStreamException($"connection closed before a response head; received: {Encoding.Latin1.GetString(_pending.ToArray())}");
            }
        }

        string head = Encoding.Latin1.GetString(_pending.GetRange(0, headEnd + 4).ToArray());
        _pending.RemoveRange(0, headEnd + 4);
        int status = int.Parse(head.Substring(9, 3));
        var response = new RawResponse(status, head, []);
        if (headRequest || status is 204 or 304 || status < 200)
        {
            return response;
        }

        if (response.Header("Transfer-Encoding") is { } te && te.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            var body = new List<byte>();
            while (true)
            {
                int lineEnd;
                while ((lineEnd = Find("\r\n"u8)) < 0)
                {
                    await FillOrThrowAsync();
                }

                int size = Convert.ToInt32(Encoding.ASCII.GetString(_pending.GetRange(0, lineEnd).ToArray()).Split(';')[0], 16);
                _pending.RemoveRange(0, lineEnd + 2);
                if (size == 0)
                {
                    int end;
                    while ((end = Find("\r\n"u8)) < 0)
                    {
                        await FillOrThrowAsync();
                    }

                    // Skip trailers up to the empty line.
                    while (end != 0)
                    {
                        _pending.RemoveRange(0, end + 2);
                        while ((end = Find("\r\n"u8)) < 0)
                        {
                            await FillOrThrowAsync();
                        }
                    }

                    _pending.RemoveRange(0, 2);
                    return response with { Body = body.ToArray() };
                }

                while (_pending.Count < size + 2)
                {
                    await FillOrThrowAsync();
                }

                body.AddRange(_pending.GetRange(0, size));
                _pending.RemoveRange(0, size + 2);
            }
        }

        if (response.Header("Content-Length") is { } length)
        {
            int n = int.Parse(length);
            while (_pending.Count < n)
            {
                await FillOrThrowAsync();
            }

            byte[] body = _pending.GetRange(0, n).ToArray();
            _pending.RemoveRange(0, n);
            return response with { Body = body };
        }

        while (await FillAsync())
        {
        }

        byte[] rest = _pending.ToArray();
        _pending.Clear();
        return response with { Body = rest };
    }

    /// <summary>
    /// Reads the exact bytes up to and including the first <paramref name="end"/>, for asserting byte for byte what the
    /// proxy sent (framing, chunk extensions, trailers), which <see cref="ReadResponseAsync"/> decodes away.
    /// </summary>
    public async Task<string> ReadRawUntilAsync(string end)
    {
        byte[] marker = Encoding.Latin1.GetBytes(end);
        int at;
        while ((at = Find(marker)) < 0)
        {
            if (!await FillAsync())
            {
                throw new EndOfStreamException($"connection closed before {end}; received: {Encoding.Latin1.GetString(_pending.ToArray())}");
            }
        }

        string raw = Encoding.Latin1.GetString(_pending.GetRange(0, at + marker.Length).ToArray());
        _pending.RemoveRange(0, at + marker.Length);
        return raw;
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes (a chunk's data, after <see cref="ReadRawUntilAsync"/> read its size line).</summary>
    public async Task<byte[]> ReadBytesAsync(int count)
    {
        while (_pending.Count < count)
        {
            await FillOrThrowAsync();
        }

        byte[] bytes = _pending.GetRange(0, count).ToArray();
        _pending.RemoveRange(0, count);
        return bytes;
    }

    /// <summary>True when the proxy closed the connection (end of stream or reset) with nothing more to read.</summary>
    public async Task<bool> IsClosedAsync(TimeSpan? deadline = null)
    {
        if (_pending.Count > 0)
        {
            return false;
        }

        if (_tls is null)
        {
            return await Socket.WaitForCloseAsync(deadline);
        }

        using var timeout = new CancellationTokenSource(deadline ?? Wait.DefaultDeadline);
        try
        {
            return await _tls.ReadAsync(_chunk, timeout.Token) == 0;
        }
        catch (IOException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task FillOrThrowAsync()
    {
        if (!await FillAsync())
        {
            throw new EndOfStreamException("connection closed in the middle of a response");
        }
    }

    private async Task<bool> FillAsync()
    {
        using var timeout = new CancellationTokenSource(Wait.DefaultDeadline);
        int n;
        try
        {
            n = _tls is null ? await Socket.ReceiveAsync(_chunk, SocketFlags.None, timeout.Token) : await _tls.ReadAsync(_chunk, timeout.Token);
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            return false;
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no response within the deadline; received so far: {Encoding.Latin1.GetString(_pending.ToArray())}");
        }

        if (n == 0)
        {
            return false;
        }

        _pending.AddRange(_chunk.AsSpan(0, n));
        return true;
    }

    private int Find(ReadOnlySpan<byte> pattern)
    {
        for (int i = 0; i + pattern.Length <= _pending.Count; i++)
        {
            bool match = true;
            for (int j = 0; j < pattern.Length && match; j++)
            {
                match = _pending[i + j] == pattern[j];
            }

            if (match)
            {
                return i;
            }
        }

        return -1;
    }

    public void Dispose()
    {
        _tls?.Dispose();
        Socket.Dispose();
    }
}
