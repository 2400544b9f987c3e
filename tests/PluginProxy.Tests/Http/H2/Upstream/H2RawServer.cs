using System.Buffers;
using System.Text;
using PluginProxy.Http.Codec.H2;
using PluginProxy.Http.Engine.H2.Upstream;
using PluginProxy.TestKit;

namespace PluginProxy.Tests.Http.H2.Upstream;

/// <summary>
/// A scripted HTTP/2 server for <see cref="Http2ServerConnection"/> tests: the test reads the client's frames and writes
/// raw frames over an in-memory pair, to produce what a well-behaved server would not (REFUSED_STREAM, GOAWAY, bad heads).
/// </summary>
internal sealed class H2RawServer : IAsyncDisposable
{
    private readonly InMemoryTransport _server;
    private readonly InMemoryTransport _clientEnd;
    private readonly HpackEncoder _encoder = new();
    private readonly HpackDecoder _decoder = new(maxHeaderListSize: 1 << 20);
    private readonly byte[] _buffer = new byte[1 << 20];
    private int _count;
    private bool _prefaceRead;

    public H2RawServer(Http2UpstreamOptions? options = null)
    {
        (_server, _clientEnd) = InMemoryTransport.CreatePair();
        Connection = new Http2ServerConnection(_clientEnd, options);
        Run = Task.Run(Connection.RunAsync);
    }

    public Http2ServerConnection Connection { get; }

    public Task Run { get; }

    /// <summary>Reads the client's preface and SETTINGS, sends ours (with <paramref name="settings"/>) and the ACK, waits until the client applied them.</summary>
    public static async Task<H2RawServer> StartAsync(params Http2Setting[] settings)
    {
        var server = new H2RawServer();
        H2Frame first = await server.ReadFrameAsync();
        Assert.Equal(Http2FrameType.Settings, first.Type);
        await server.SendAsync(Frame(w => FrameWriter.WriteSettings(w, settings)));
        await server.SendAsync(Frame(w => FrameWriter.WriteSettingsAck(w)));
        await server.Connection.SettingsReceived;
        return server;
    }

    public static byte[] Frame(Action<ArrayBufferWriter<byte>> write)
    {
        var writer = new ArrayBufferWriter<byte>();
        write(writer);
        return writer.WrittenSpan.ToArray();
    }

    public ValueTask SendAsync(byte[] bytes) => _server.SendAsync(bytes);

    public ValueTask SendHeadersAsync(int streamId, bool endStream, params (string Name, string Value)[] fields)
    {
        var block = new ArrayBufferWriter<byte>();
        _encoder.BeginBlock(block);
        foreach ((string name, string value) in fields)
        {
            _encoder.EncodeField(block, Encoding.Latin1.GetBytes(name), Encoding.Latin1.GetBytes(value));
        }

        byte[] bytes = block.WrittenSpan.ToArray();
        return SendAsync(Frame(w => FrameWriter.WriteHeaders(w, streamId, bytes, endStream, 16384)));
    }

    public ValueTask SendDataAsync(int streamId, string data, bool endStream)
        => SendAsync(Frame(w => FrameWriter.WriteData(w, streamId, Encoding.Latin1.GetBytes(data), endStream)));

    public ValueTask SendRstAsync(int streamId, Http2ErrorCode code) => SendAsync(Frame(w => FrameWriter.WriteRstStream(w, streamId, code)));

    public ValueTask SendGoAwayAsync(int lastStreamId, Http2ErrorCode code) => SendAsync(Frame(w => FrameWriter.WriteGoAway(w, lastStreamId, code)));

    /// <summary>Decodes a HEADERS frame's block (no padding or priority in what the client sends).</summary>
    public List<(string Name, string Value)> Decode(H2Frame headers)
    {
        (HpackError error, List<(string Name, string Value, bool NeverIndexed)> fields) = H2TestSupport.Decode(_decoder, headers.Payload);
        Assert.Equal(HpackError.None, error);
        return [.. fields.Select(f => (f.Name, f.Value))];
    }

    /// <summary>The next frame from the client (after its preface); fails after 10 seconds or when the client closed.</summary>
    public async Task<H2Frame> ReadFrameAsync()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            if (!_prefaceRead && _count >= Http2Protocol.ClientPrefaceLength)
            {
                Assert.True(_buffer.AsSpan(0, Http2Protocol.ClientPrefaceLength).SequenceEqual(Http2Protocol.ClientPreface));
                Consume(Http2Protocol.ClientPrefaceLength);
                _prefaceRead = true;
            }

            if (_prefaceRead && FrameHeader.TryRead(_buffer.AsSpan(0, _count), out FrameHeader header) && _count >= FrameHeader.Size + header.Length)
            {
                byte[] payload = _buffer.AsSpan(FrameHeader.Size, header.Length).ToArray();
                Consume(FrameHeader.Size + header.Length);
                return new H2Frame(header, payload);
            }

            int n = await _server.ReceiveAsync(_buffer.AsMemory(_count), deadline.Token);
            if (n == 0)
            {
                throw new EndOfStreamException("the client closed the connection");
            }

            _count += n;
        }
    }

    /// <summary>Reads frames until one matches.</summary>
    public async Task<H2Frame> ReadUntilAsync(Func<H2Frame, bool> match)
    {
        while (true)
        {
            H2Frame frame = await ReadFrameAsync();
            if (match(frame))
            {
                return frame;
            }
        }
    }

    /// <summary>Reads until the client closes its sending side; returns the frames read.</summary>
    public async Task<List<H2Frame>> ReadToEndAsync()
    {
        var frames = new List<H2Frame>();
        while (true)
        {
            try
            {
                frames.Add(await ReadFrameAsync());
            }
            catch (EndOfStreamException)
            {
                return frames;
            }
        }
    }

    private void Consume(int used)
    {
        _buffer.AsSpan(used, _count - used).CopyTo(_buffer);
        _count -= used;
    }

    public async ValueTask DisposeAsync()
    {
        _server.Dispose();
        await Run.WaitAsync(TimeSpan.FromSeconds(10));
        _clientEnd.Dispose();
    }
}
