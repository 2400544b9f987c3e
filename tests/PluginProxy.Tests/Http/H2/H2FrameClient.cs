using System.Buffers.Binary;
using System.Text;
using PluginProxy.Abstractions;
using PluginProxy.Http.Codec.H2;
using PluginProxy.Http.Engine.H2;
using PluginProxy.TestKit;

namespace PluginProxy.Tests.Http.H2;

/// <summary>
/// The test side of an HTTP/2 connection: a server (<see cref="Http2ClientConnection"/> with a handler) on one end of an
/// in-memory pair, and raw frame writing and reading on the other, built on <see cref="FrameWriter"/> and HPACK.
/// </summary>
internal sealed class H2FrameClient : IAsyncDisposable
{
    private readonly Transport _client;
    private readonly InMemoryTransport? _serverEnd;
    private readonly Http2ClientConnection? _connection;
    private readonly HpackEncoder _encoder = new();
    private readonly HpackDecoder _decoder = new(maxHeaderListSize: 1 << 20);
    private readonly byte[] _buffer = new byte[1 << 20];
    private int _count;

    private H2FrameClient(Func<Http2ServerStream, ValueTask> handler, Http2Limits? limits, ManualHeartbeat? heartbeat = null, bool paced = false)
    {
        (InMemoryTransport client, InMemoryTransport serverEnd) = InMemoryTransport.CreatePair();
        (_client, _serverEnd) = (client, serverEnd);
        Transport server = serverEnd;
        if (paced)
        {
            Paced = new PacedTransport(serverEnd);
            server = Paced;
        }

        _connection = new Http2ClientConnection(server, handler, limits, heartbeat: heartbeat, clock: heartbeat is null ? null : () => heartbeat.Now);
        Run = Task.Run(_connection.RunAsync);
    }

    /// <summary>A client over a real socket (to a proxy, say): no server in this process.</summary>
    private H2FrameClient(Transport socket)
    {
        _client = socket;
        Run = Task.CompletedTask;
    }

    /// <summary>Connects to <paramref name="endPoint"/> and starts HTTP/2 with prior knowledge, as <see cref="StartAsync(Func{Http2ServerStream, ValueTask}?, Http2Limits?, Http2Setting[])"/> does.</summary>
    public static async Task<H2FrameClient> ConnectAsync(System.Net.IPEndPoint endPoint, params Http2Setting[] settings)
    {
        System.Net.Sockets.Socket socket = await PluginProxy.Tests.Infrastructure.SocketExtensions.ConnectAsync(endPoint);
        return await StartAsync(new H2FrameClient(new SocketTransport(socket)), settings);
    }

    /// <summary>The server's end when the connection was made paced: its writes wait for the test's permits.</summary>
    public PacedTransport? Paced { get; }

    public Http2ClientConnection Connection => _connection ?? throw new InvalidOperationException("a client over a socket has no server in this process");

    /// <summary>The server's run; completes once the connection ended and its handlers returned.</summary>
    public Task Run { get; }

    /// <summary>The server's SETTINGS frame, read by <see cref="StartAsync"/>.</summary>
    public H2Frame? ServerSettings { get; private set; }

    /// <summary>Starts a connection: preface and SETTINGS (with <paramref name="settings"/>), reads the server's SETTINGS, acknowledges them, waits for the ACK of ours.</summary>
    public static Task<H2FrameClient> StartAsync(Func<Http2ServerStream, ValueTask>? handler = null, Http2Limits? limits = null, params Http2Setting[] settings)
        => StartAsync(new H2FrameClient(handler ?? EchoHandler.HandleAsync, limits), settings);

    /// <summary>As <see cref="StartAsync(Func{Http2ServerStream, ValueTask}?, Http2Limits?, Http2Setting[])"/>, with the deadlines checked by <paramref name="heartbeat"/> on its clock, and the server's writes paced (<see cref="Paced"/>, open until the test pauses them) when asked.</summary>
    public static Task<H2FrameClient> StartAsync(ManualHeartbeat heartbeat, Func<Http2ServerStream, ValueTask>? handler = null, Http2Limits? limits = null, bool paced = false, params Http2Setting[] settings)
        => StartAsync(new H2FrameClient(handler ?? EchoHandler.HandleAsync, limits, heartbeat, paced), settings);

    private static async Task<H2FrameClient> StartAsync(H2FrameClient client, Http2Setting[] settings)
    {
        await client.SendAsync(Http2Protocol.ClientPreface.ToArray());
        await client.SendSettingsAsync(settings);
        client.ServerSettings = await client.ReadFrameAsync();
        Assert.Equal(Http2FrameType.Settings, client.ServerSettings!.Type);
        await client.SendAsync(Frame(w => FrameWriter.WriteSettingsAck(w)));
        H2Frame frame;
        do
        {
            frame = (await client.ReadFrameAsync())!;
        }
        while (!(frame.Type == Http2FrameType.Settings && frame.Has(Http2FrameFlags.Ack)));

        return client;
    }

    /// <summary>A connection whose client has sent nothing yet.</summary>
    public static H2FrameClient Open(Func<Http2ServerStream, ValueTask>? handler = null, Http2Limits? limits = null, ManualHeartbeat? heartbeat = null)
        => new(handler ?? EchoHandler.HandleAsync, limits, heartbeat);

    public static byte[] Frame(Action<System.Buffers.ArrayBufferWriter<byte>> write)
    {
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        write(writer);
        return writer.WrittenSpan.ToArray();
    }

    public ValueTask SendAsync(byte[] bytes) => _client.SendAsync(bytes);

    public ValueTask SendSettingsAsync(params Http2Setting[] settings) => SendAsync(Frame(w => FrameWriter.WriteSettings(w, settings)));

    public ValueTask SendPingAsync(ulong data) => SendAsync(Frame(w => FrameWriter.WritePing(w, data, ack: false)));

    public ValueTask SendRstAsync(int streamId, Http2ErrorCode code) => SendAsync(Frame(w => FrameWriter.WriteRstStream(w, streamId, code)));

    public ValueTask SendWindowUpdateAsync(int streamId, int increment) => SendAsync(Frame(w => FrameWriter.WriteWindowUpdate(w, streamId, increment)));

    public ValueTask SendDataAsync(int streamId, string data, bool endStream) => SendDataAsync(streamId, Encoding.Latin1.GetBytes(data), endStream);

    public ValueTask SendDataAsync(int streamId, byte[] data, bool endStream) => SendAsync(Frame(w => FrameWriter.WriteData(w, streamId, data, endStream)));

    /// <summary>A raw frame: header and payload as given.</summary>
    public ValueTask SendFrameAsync(Http2FrameType type, Http2FrameFlags flags, int streamId, byte[] payload)
    {
        byte[] frame = new byte[FrameHeader.Size + payload.Length];
        new FrameHeader(payload.Length, type, flags, streamId).Write(frame);
        payload.CopyTo(frame, FrameHeader.Size);
        return SendAsync(frame);
    }

    /// <summary>The HPACK block of <paramref name="fields"/> (names as given).</summary>
    public byte[] Block(params (string Name, string Value)[] fields)
    {
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        _encoder.BeginBlock(writer);
        foreach ((string name, string value) in fields)
        {
            _encoder.EncodeField(writer, Encoding.Latin1.GetBytes(name), Encoding.Latin1.GetBytes(value));
        }

        return writer.WrittenSpan.ToArray();
    }

    public ValueTask SendHeadersAsync(int streamId, bool endStream, params (string Name, string Value)[] fields)
    {
        byte[] block = Block(fields);
        return SendAsync(Frame(w => FrameWriter.WriteHeaders(w, streamId, block, endStream, 16384)));
    }

    /// <summary>The usual request fields for <paramref name="method"/> and <paramref name="path"/>, then <paramref name="extra"/>.</summary>
    public static (string, string)[] Request(string method, string path, params (string, string)[] extra)
        => [(":method", method), (":scheme", "http"), (":path", path), (":authority", "example.test"), .. extra];

    public ValueTask GetAsync(int streamId, string path) => SendHeadersAsync(streamId, true, Request("GET", path));

    /// <summary>The next frame, or null once the server closed; fails the test after 10 seconds.</summary>
    public async Task<H2Frame?> ReadFrameAsync()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            if (FrameHeader.TryRead(_buffer.AsSpan(0, _count), out FrameHeader header) && _count >= FrameHeader.Size + header.Length)
            {
                byte[] payload = _buffer.AsSpan(FrameHeader.Size, header.Length).ToArray();
                int used = FrameHeader.Size + header.Length;
                _buffer.AsSpan(used, _count - used).CopyTo(_buffer);
                _count -= used;
                return new H2Frame(header, payload);
            }

            int n;
            try
            {
                n = await _client.ReceiveAsync(_buffer.AsMemory(_count), deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException("no frame from the server within 10 s");
            }

            if (n == 0)
            {
                return null;
            }

            _count += n;
        }
    }

    /// <summary>Reads frames until one matches; fails when the connection ends first.</summary>
    public async Task<H2Frame> ReadUntilAsync(Func<H2Frame, bool> match, List<H2Frame>? skipped = null)
    {
        while (true)
        {
            H2Frame frame = await ReadFrameAsync() ?? throw new Xunit.Sdk.XunitException("the connection ended first");
            if (match(frame))
            {
                return frame;
            }

            skipped?.Add(frame);
        }
    }

    /// <summary>Reads until GOAWAY and returns it.</summary>
    public Task<H2Frame> ReadGoAwayAsync() => ReadUntilAsync(f => f.Type == Http2FrameType.GoAway);

    /// <summary>Reads until RST_STREAM on <paramref name="streamId"/> and returns its code.</summary>
    public async Task<Http2ErrorCode> ReadRstAsync(int streamId)
        => (await ReadUntilAsync(f => f.Type == Http2FrameType.RstStream && f.StreamId == streamId)).ErrorCode;

    /// <summary>Reads the response of <paramref name="streamId"/> to its end (frames of other streams are skipped, field blocks still decoded).</summary>
    public async Task<H2Response> ReadResponseAsync(int streamId)
    {
        int status = 0;
        var fields = new List<(string, string)>();
        var trailers = new List<(string, string)>();
        var body = new MemoryStream();
        while (true)
        {
            H2Frame frame = await ReadFrameAsync() ?? throw new Xunit.Sdk.XunitException("the connection ended before the response");
            if (frame.Type == Http2FrameType.RstStream && frame.StreamId == streamId)
            {
                throw new Xunit.Sdk.XunitException($"stream {streamId} was reset: {frame.ErrorCode}");
            }

            if (frame.Type == Http2FrameType.Headers)
            {
                List<(string Name, string Value)> block = await ReadBlockAsync(frame);
                if (frame.StreamId != streamId)
                {
                    continue;
                }

                if (status == 0)
                {
                    status = int.Parse(block.First(f => f.Name == ":status").Value);
                    fields.AddRange(block);
                }
                else
                {
                    trailers.AddRange(block);
                }
            }
            else if (frame.Type == Http2FrameType.Data && frame.StreamId == streamId)
            {
                body.Write(frame.Payload);
            }
            else
            {
                continue;
            }

            if (frame.Has(Http2FrameFlags.EndStream))
            {
                return new H2Response(status, fields, body.ToArray(), trailers);
            }
        }
    }

    /// <summary>Decodes the field block a HEADERS frame starts (reading its CONTINUATION frames).</summary>
    public async Task<List<(string Name, string Value)>> ReadBlockAsync(H2Frame headers)
    {
        Http2Error error = FramePayloads.ReadHeaders(headers.Header, headers.Payload, out HeadersPayload payload);
        Assert.False(error.IsError, error.ToString());
        var block = new MemoryStream();
        block.Write(headers.Payload.AsSpan(payload.Fragment));
        H2Frame last = headers;
        while (!last.Has(Http2FrameFlags.EndHeaders))
        {
            last = (await ReadFrameAsync())!;
            Assert.Equal(Http2FrameType.Continuation, last.Type);
            block.Write(last.Payload);
        }

        var sink = new ListSink();
        Assert.Equal(HpackError.None, _decoder.Decode(block.ToArray(), ref sink));
        return sink.Fields.Select(f => (f.Name, f.Value)).ToList();
    }

    /// <summary>Closes the client end and waits for the server's run to finish.</summary>
    public async Task CloseAsync()
    {
        _client.Dispose();
        await Run.WaitAsync(TimeSpan.FromSeconds(10));
    }

    public async ValueTask DisposeAsync()
    {
        Paced?.Resume();
        _client.Dispose();
        try
        {
            await Run.WaitAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            _serverEnd?.Dispose();
            Paced?.Dispose();
        }
    }
}
