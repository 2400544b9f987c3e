using System.Globalization;
using System.Text;

namespace PluginProxy.TestKit;

/// <summary>Reads HTTP/1.x messages one at a time from one end of an in-memory connection (a test's client or scripted server).</summary>
internal sealed class HttpMessageReader(InMemoryTransport transport)
{
    private readonly byte[] _chunk = new byte[16 * 1024];
    private byte[] _buffer = [];
    private int _start;
    private int _end;
    private int _rawFrom;

    /// <summary>True once the other end closed and every byte was read.</summary>
    public bool AtEnd { get; private set; }

    /// <summary>
    /// The next message, or null when the connection ended before one began. A response to a HEAD request or with status
    /// 1xx, 204 or 304 has no body; a response without a length runs to the end of the connection.
    /// </summary>
    public async Task<HttpMessage?> ReadAsync(bool isResponse, bool headRequest, CancellationToken cancellationToken)
    {
        _rawFrom = _start;
        int headEnd;
        while ((headEnd = IndexOf("\r\n\r\n"u8, _start)) < 0)
        {
            if (!await FillAsync(cancellationToken))
            {
                if (_end == _start)
                {
                    return null;
                }

                throw new IOException($"the connection ended within a message head:\n{Encoding.Latin1.GetString(_buffer, _start, _end - _start)}");
            }
        }

        string[] lines = Encoding.Latin1.GetString(_buffer, _start, headEnd - _start).Split("\r\n");
        _start = headEnd + 4;
        var headers = lines.Skip(1).Select(line =>
        {
            int colon = line.IndexOf(':');
            return colon < 0 ? new KeyValuePair<string, string>(line, "") : new(line[..colon], line[(colon + 1)..].Trim());
        }).ToList();
        var view = new HeaderView(headers);
        int status = isResponse && lines[0].Split(' ') is [_, var code, ..] && int.TryParse(code, out int s) ? s : 0;
        bool noBody = isResponse && (headRequest || status is (>= 100 and < 200) or 204 or 304);
        byte[] body = noBody ? []
            : view["Transfer-Encoding"]?.Contains("chunked", StringComparison.OrdinalIgnoreCase) == true ? await ReadChunkedAsync(cancellationToken)
            : view["Content-Length"] is { } length ? await ReadExactlyAsync(long.Parse(length, CultureInfo.InvariantCulture), cancellationToken)
            : isResponse ? await ReadToEndAsync(cancellationToken)
            : [];
        byte[] raw = _buffer[_rawFrom.._start];
        return new HttpMessage(lines[0], headers, body, raw);
    }

    private async Task<byte[]> ReadExactlyAsync(long length, CancellationToken cancellationToken)
    {
        while (_end - _start < length)
        {
            if (!await FillAsync(cancellationToken))
            {
                throw new IOException($"the connection ended after {_end - _start} of {length} body bytes");
            }
        }

        byte[] body = _buffer[_start..(_start + (int)length)];
        _start += (int)length;
        return body;
    }

    private async Task<byte[]> ReadToEndAsync(CancellationToken cancellationToken)
    {
        while (await FillAsync(cancellationToken))
        {
        }

        byte[] body = _buffer[_start.._end];
        _start = _end;
        return body;
    }

    private async Task<byte[]> ReadChunkedAsync(CancellationToken cancellationToken)
    {
        var body = new MemoryStream();
        while (true)
        {
            string sizeLine = await ReadLineAsync(cancellationToken);
            int size = int.Parse(sizeLine.Split(';')[0].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (size == 0)
            {
                while ((await ReadLineAsync(cancellationToken)).Length > 0)
                {
                    // Trailer fields: dropped.
                }

                return body.ToArray();
            }

            body.Write(await ReadExactlyAsync(size, cancellationToken));
            await ReadLineAsync(cancellationToken);
        }
    }

    private async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        int lineEnd;
        while ((lineEnd = IndexOf("\r\n"u8, _start)) < 0)
        {
            if (!await FillAsync(cancellationToken))
            {
                throw new IOException("the connection ended within a chunked body");
            }
        }

        string line = Encoding.Latin1.GetString(_buffer, _start, lineEnd - _start);
        _start = lineEnd + 2;
        return line;
    }

    private int IndexOf(ReadOnlySpan<byte> what, int from)
    {
        int i = _buffer.AsSpan(from, _end - from).IndexOf(what);
        return i < 0 ? -1 : from + i;
    }

    /// <summary>Reads more bytes; false at the end of the connection.</summary>
    private async Task<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (AtEnd)
        {
            return false;
        }

        int n;
        try
        {
            n = await transport.ReceiveAsync(_chunk, cancellationToken);
        }
        catch (ObjectDisposedException)
        {
            n = 0;
        }

        if (n == 0)
        {
            AtEnd = true;
            return false;
        }

        if (_end + n > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _end + n));
        }

        _chunk.AsSpan(0, n).CopyTo(_buffer.AsSpan(_end));
        _end += n;
        return true;
    }
}
