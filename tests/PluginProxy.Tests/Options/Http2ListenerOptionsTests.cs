using System.Buffers.Binary;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using PluginProxy.Abstractions.Options;
using PluginProxy.Host;
using PluginProxy.Host.Configuration;
using PluginProxy.Http;
using PluginProxy.Http.Engine.H2;
using PluginProxy.Tests.Https;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Options;

/// <summary>
/// <c>[listener.h2]</c>: the HTTP/2 limits of an http or https listener, keys of the http supervisor bound with the SDK's
/// binder (<see cref="Http2ListenerOptions"/>): defaults, each key, errors at their file:line:column, and the limit a
/// client sees in the proxy's SETTINGS.
/// </summary>
public class Http2ListenerOptionsTests
{
    private const string AllKeys = """
        [listener.h2]
        max_concurrent_streams = 7
        stream_window = "64k"
        connection_window = "2m"
        max_frame_size = 32768
        header_table_size = 0
        max_resets = 50
        flood_window = "5s"
        max_pings = 11
        max_settings = 12
        max_empty_frames = 13
        max_continuation_frames = 4
        window_stall_timeout = "3s"
        settings_ack_timeout = "2s"
        """;

    /// <summary>Where <paramref name="text"/> first occurs from the line holding <paramref name="from"/> on (1-based).</summary>
    private static string At(string path, string text, string from = "[[listener]]")
    {
        string[] lines = File.ReadAllLines(path);
        int start = Array.FindIndex(lines, l => l.Contains(from, StringComparison.Ordinal));
        int line = Array.FindIndex(lines, start, l => l.Contains(text, StringComparison.Ordinal));
        return $"{path}:{line + 1}:{lines[line].IndexOf(text, StringComparison.Ordinal) + 1}";
    }

    private static HttpListenerOptions Bound(string listenerExtra, string listenerKeys = "")
    {
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", HttpConfig.For("127.0.0.1:9", listenerExtra: listenerKeys + "\n" + listenerExtra));
        ProxyConfig config = ConfigLoader.Load(path);
        OptionsBinding<HttpListenerOptions> bound = OptionsBinder.Bind<HttpListenerOptions>(config.Listeners[0].Settings.Table, claimsTable: false);
        Assert.Empty(bound.Errors);
        return bound.Value;
    }

    private static async Task AssertRefusedAsync(string listenerExtra, string valueText, string message)
    {
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", HttpConfig.For("127.0.0.1:9", listenerExtra: listenerExtra));
        var error = await Assert.ThrowsAsync<StartupException>(() => ProxyHost.BuildAsync(ConfigLoader.Load(path), NullLoggerFactory.Instance, new CapturedAccessLog()));
        Assert.Equal($"{At(path, valueText, "[listener.h2]")}: {message}", Assert.Single(error.Problems));
    }

    [Fact]
    public void WithoutTheTable_TheDefaultsAreTheEnginesDefaults()
    {
        HttpListenerOptions options = Bound("");
        Http2Limits limits = options.H2.ToLimits(16384, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(30));

        Assert.Equal(Http2Limits.Default, limits);
        Assert.Equal(100, options.H2.MaxConcurrentStreams);
        Assert.Equal(TimeSpan.FromSeconds(10), options.H2.FloodWindow);
    }

    [Fact]
    public void EveryKey_IsRead()
    {
        Http2ListenerOptions h2 = Bound(AllKeys).H2;
        Http2Limits limits = h2.ToLimits(8192, null, TimeSpan.FromSeconds(5));
        limits.Validate();

        Assert.Equal(Http2Limits.Default with
        {
            MaxConcurrentStreams = 7,
            StreamWindow = 64 * 1024,
            ConnectionWindow = 2 * 1024 * 1024,
            MaxFrameSize = 32768,
            HeaderTableSize = 0,
            MaxClientResets = 50,
            FloodWindow = TimeSpan.FromSeconds(5),
            MaxPings = 11,
            MaxSettingsFrames = 12,
            MaxEmptyFrames = 13,
            MaxContinuationFrames = 4,
            WindowStallTimeout = TimeSpan.FromSeconds(3),
            SettingsAckTimeout = TimeSpan.FromSeconds(2),
            MaxHeaderListSize = 8192,
            IdleTimeout = null,
            WriteTimeout = TimeSpan.FromSeconds(5),
        }, limits);
    }

    [Theory]
    [InlineData("max_concurrent_streams = 0", "0", "`h2.max_concurrent_streams` must be from 1 to 10000, not 0")]
    [InlineData("stream_window = \"8k\"", "\"8k\"", "`h2.stream_window` must be from 16384 to 16777216 bytes, not 8192")]
    [InlineData("max_frame_size = 16777216", "16777216", "`h2.max_frame_size` must be from 16384 to 16777215 bytes, not 16777216")]
    [InlineData("header_table_size = \"128k\"", "\"128k\"", "`h2.header_table_size` must be from 0 to 65536 bytes, not 131072")]
    [InlineData("max_resets = 100001", "100001", "`h2.max_resets` must be from 1 to 100000, not 100001")]
    [InlineData("max_concurrent_streams = \"many\"", "\"many\"", "`h2.max_concurrent_streams` must be an integer from 1 to 10000, not a string")]
    [InlineData("flood_window = 10", "10", "`h2.flood_window` must be a duration string such as \"5s\" or \"250ms\", not an integer")]
    [InlineData("connection_window = \"256k\"\nstream_window = \"512k\"", "\"256k\"",
        "`h2.connection_window` (262144 bytes) must be at least `h2.stream_window` (524288 bytes)")]
    public async Task AWrongValue_IsRefusedAtItsPlace(string keys, string valueText, string message) =>
        await AssertRefusedAsync("[listener.h2]\n" + keys, valueText, message);

    [Fact]
    public async Task AnUnknownKey_IsRefusedWithTheClosestKnownOne()
    {
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", HttpConfig.For("127.0.0.1:9", listenerExtra: "[listener.h2]\nmax_concurent_streams = 5"));
        var error = await Assert.ThrowsAsync<StartupException>(() => ProxyHost.BuildAsync(ConfigLoader.Load(path), NullLoggerFactory.Instance, new CapturedAccessLog()));

        Assert.Equal($"{At(path, "max_concurent_streams")}: unknown key `max_concurent_streams` in `h2`; did you mean `max_concurrent_streams`?",
            Assert.Single(error.Problems));
    }

    [Fact]
    public async Task H2ThatIsNotATable_IsRefused()
    {
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", HttpConfig.For("127.0.0.1:9", listenerExtra: "h2 = true"));
        var error = await Assert.ThrowsAsync<StartupException>(() => ProxyHost.BuildAsync(ConfigLoader.Load(path), NullLoggerFactory.Instance, new CapturedAccessLog()));

        Assert.Equal($"{At(path, "true")}: `h2` must be a table, not a boolean", Assert.Single(error.Problems));
    }

    [Fact]
    public async Task OnAnHttpListener_TheClientSeesMaxConcurrentStreams()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(origin.Address,
            listenerExtra: "[listener.h2]\nmax_concurrent_streams = 2\nstream_window = \"32k\""));
        using Socket socket = await proxy.ConnectAsync();
        await using var stream = new NetworkStream(socket, ownsSocket: false);

        Dictionary<int, uint> settings = await ServerSettingsAsync(stream);

        Assert.Equal(2u, settings[0x3]);
        Assert.Equal(32u * 1024, settings[0x4]);
    }

    [Fact]
    public async Task OnAnHttpsListener_TheKeysApplyToo()
    {
        await using HttpOrigin origin = HttpOrigin.Echo();
        using var certificates = new HttpsTests.Certificates();
        await using RunningProxy proxy = await RunningProxy.StartAsync(certificates.Config(origin.Address,
            tlsExtra: "alpn = [\"h2\"]\n\n[listener.h2]\nmax_concurrent_streams = 3"));
        using TlsClient client = await TestPki.ConnectAsync(proxy.EndPoint(), "site.test", ["h2"]);

        Dictionary<int, uint> settings = await ServerSettingsAsync(client.Stream);

        Assert.Equal(3u, settings[0x3]);
    }

    /// <summary>Sends the client preface and an empty SETTINGS frame, then reads the server's first frame: its SETTINGS, by id.</summary>
    private static async Task<Dictionary<int, uint>> ServerSettingsAsync(Stream stream)
    {
        using var timeout = new CancellationTokenSource(Wait.DefaultDeadline);
        byte[] hello = [.. "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8, 0, 0, 0, 0x4, 0, 0, 0, 0, 0];
        await stream.WriteAsync(hello, timeout.Token);
        await stream.FlushAsync(timeout.Token);

        byte[] header = new byte[9];
        await stream.ReadExactlyAsync(header, timeout.Token);
        int length = (header[0] << 16) | (header[1] << 8) | header[2];
        Assert.Equal(0x4, header[3]);
        Assert.Equal(0, header[4]);
        byte[] payload = new byte[length];
        await stream.ReadExactlyAsync(payload, timeout.Token);

        var settings = new Dictionary<int, uint>();
        for (int i = 0; i + 6 <= payload.Length; i += 6)
        {
            settings[BinaryPrimitives.ReadUInt16BigEndian(payload.AsSpan(i))] = BinaryPrimitives.ReadUInt32BigEndian(payload.AsSpan(i + 2));
        }

        return settings;
    }
}
