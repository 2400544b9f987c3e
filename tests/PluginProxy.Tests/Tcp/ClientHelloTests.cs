using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using PluginProxy.Tcp.Tls;
using PluginProxy.Tests.Infrastructure;
using Xunit.Abstractions;

namespace PluginProxy.Tests.Tcp;

/// <summary>
/// The ClientHello parser behind SNI routing, fed with real ClientHellos: .NET's <see cref="SslStream"/> (and openssl
/// s_client when installed) talk to a loopback socket that records their first flight and hangs up without answering.
/// Fragmented, oversized and broken variants are rebuilt from those real messages.
/// </summary>
public class ClientHelloTests(ITestOutputHelper output)
{
    private const int MaxSize = 16384;
    private const byte HandshakeRecord = 0x16;
    private const ushort PaddingExtension = 21;
    private const ushort ServerNameExtension = 0;
    private const string Zero32 = "0000000000000000000000000000000000000000000000000000000000000000";
    private const string Random32 = "5f9c2d7e81a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d";

    [Fact]
    public async Task DotNetClient_ServerName_IsFoundInLowercase()
    {
        byte[] records = await CaptureDotNetClientHelloAsync("Api.Example.COM", [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11]);
        output.WriteLine($".NET ClientHello: {records.Length} bytes in {CountRecords(records)} record(s), record version {records[1]:x2}{records[2]:x2}, sni bytes '{SniAsSent(records)}'");

        ClientHelloInfo info = AssertComplete(records);

        Assert.Equal("api.example.com", info.ServerName);
        Assert.Equal(0x0303, info.LegacyVersion);
        Assert.True(info.OffersTls13);
        Assert.Equal(records.Length, info.Length);
    }

    [Fact]
    public async Task DotNetClient_IpAddressTarget_SendsNoServerName()
    {
        byte[] records = await CaptureDotNetClientHelloAsync("127.0.0.1");

        ClientHelloInfo info = AssertComplete(records);

        Assert.Null(info.ServerName);
        Assert.Equal(records.Length, info.Length);
    }

    [Fact]
    public async Task DotNetClient_Tls12Only_DoesNotOfferTls13()
    {
        byte[] records = await CaptureDotNetClientHelloAsync("api.example.com", protocols: SslProtocols.Tls12);

        ClientHelloInfo info = AssertComplete(records);

        Assert.Equal("api.example.com", info.ServerName);
        Assert.False(info.OffersTls13);
    }

    [SkippableFact]
    public async Task OpenSslClient_ServerName_IsFound()
    {
        string? openssl = Tools.FindOnPath("openssl");
        Skip.If(openssl is null, "openssl is not on PATH");

        byte[] records = await CaptureOpenSslClientHelloAsync(openssl, "x.example.org");
        output.WriteLine($"openssl s_client ClientHello: {records.Length} bytes in {CountRecords(records)} record(s)");

        ClientHelloInfo info = AssertComplete(records);
        Assert.Equal("x.example.org", info.ServerName);
        Assert.Equal(0x0303, info.LegacyVersion);
        Assert.True(info.OffersTls13);
        Assert.Equal(records.Length, info.Length);
    }

    [Fact]
    public async Task EveryPrefix_NeedsMoreData_AndTheWhole_IsComplete()
    {
        byte[] records = await CaptureDotNetClientHelloAsync("api.example.com");

        AssertEveryPrefixNeedsMoreData(records);
        Assert.Equal("api.example.com", AssertComplete(records).ServerName);
    }

    [Theory]
    [InlineData(new[] { 100 })]
    [InlineData(new[] { 2 })]
    [InlineData(new[] { 1, 3 })]
    [InlineData(new[] { 60, 200 })]
    public async Task ResplitIntoSeveralRecords_ParsesTheSame(int[] fragmentSizes)
    {
        byte[] original = await CaptureDotNetClientHelloAsync("Api.Example.com");
        ClientHelloInfo expected = AssertComplete(original);
        byte[] resplit = Records(Message(original), fragmentSizes);
        Assert.Equal(fragmentSizes.Length + 1, CountRecords(resplit));

        AssertEveryPrefixNeedsMoreData(resplit);
        ClientHelloInfo info = AssertComplete(resplit);

        Assert.Equal(expected with { Length = resplit.Length }, info);
        Assert.Equal("api.example.com", info.ServerName);
    }

    [Fact]
    public async Task Length_CountsOnlyTheRecords_WhenApplicationBytesFollow()
    {
        byte[] records = await CaptureDotNetClientHelloAsync("api.example.com");
        byte[] resplit = Records(Message(records), 100);
        byte[] applicationData = [0x17, 0x03, 0x03, 0x00, 0x05, 1, 2, 3, 4, 5];

        Assert.Equal(records.Length, AssertComplete([.. records, .. applicationData]).Length);
        Assert.Equal(resplit.Length, AssertComplete([.. resplit, .. applicationData]).Length);
        Assert.Equal(records.Length, AssertComplete([.. records, 0x16]).Length);
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: api.example.com\r\n\r\n")]
    [InlineData("G")]
    [InlineData("SSH-2.0-OpenSSH_9.6\r\n")]
    [InlineData("\r\n")]
    public void PlainText_IsNotTls(string text)
    {
        Assert.Equal(ClientHelloStatus.NotTls, ClientHello.TryParse(Encoding.ASCII.GetBytes(text), MaxSize, out _));
    }

    [Fact]
    public void SslV2Record_IsNotTls()
    {
        // An SSLv2-compatible CLIENT-HELLO: a 2-byte length with the high bit set, message type 1, version 3.1.
        byte[] sslV2 = Convert.FromHexString("802e0103010015000000100000040000050000380000330000390000140000ff00000a00000900000300000800000600");

        Assert.Equal(ClientHelloStatus.NotTls, ClientHello.TryParse(sslV2, MaxSize, out _));
    }

    [Fact]
    public void NothingYet_NeedsMoreData()
    {
        Assert.Equal(ClientHelloStatus.NeedMoreData, ClientHello.TryParse([], MaxSize, out _));
        Assert.Equal(ClientHelloStatus.NeedMoreData, ClientHello.TryParse([HandshakeRecord], MaxSize, out _));
        Assert.Equal(ClientHelloStatus.NeedMoreData, ClientHello.TryParse([HandshakeRecord, 0x03, 0x01, 0x00], MaxSize, out _));
    }

    [Theory]
    [InlineData("1602", "record version major 2")]
    [InlineData("1601010020", "record version major 1")]
    [InlineData("1603010000", "empty record")]
    [InlineData("1603014801", "record longer than 16384 + 2048")]
    [InlineData("1603ffffff", "record longer than 16384 + 2048")]
    [InlineData("16030100020200", "a ServerHello first")]
    [InlineData("160301000514000001", "a Finished first")]
    [InlineData("1603010004" + "01000000", "an empty ClientHello body")]
    [InlineData("1603010002" + "0100" + "1503030002" + "0228", "an alert between the fragments")]
    [InlineData("1603010002" + "0100" + "1703030002" + "0000", "application data between the fragments")]
    [InlineData("1603010002" + "0100" + "1602000002" + "0000", "a second record with version major 2")]
    [InlineData("1603010008" + "01000000" + "01000000", "handshake bytes after the ClientHello")]
    public void BrokenHandshakeRecords_AreMalformed(string hex, string what)
    {
        Assert.True(ClientHelloStatus.Malformed == ClientHello.TryParse(Convert.FromHexString(hex), MaxSize, out _), what);
    }

    [Theory]
    [InlineData(Random32 + "ff" + "4a5b6c7d8e", "random bytes with a session id longer than the message")]
    [InlineData(Zero32 + "21" + Zero32 + "00" + "0002" + "1301" + "0100", "a session id longer than 32")]
    [InlineData(Zero32 + "00" + "0001" + "00" + "0100", "an odd cipher suites length")]
    [InlineData(Zero32 + "00" + "0000" + "0100", "no cipher suite")]
    [InlineData(Zero32 + "00" + "0002" + "1301" + "00", "no compression method")]
    [InlineData(Zero32 + "00" + "0002" + "1301", "no compression methods length")]
    [InlineData(Zero32 + "00" + "0002" + "1301" + "0100" + "01", "one byte where the extensions length belongs")]
    [InlineData(Zero32 + "00" + "0002" + "1301" + "0100" + "0000" + "00", "a byte after the extensions")]
    [InlineData(Zero32 + "00" + "0002" + "1301" + "0100" + "0004" + "0000", "an extensions length overrunning the message")]
    [InlineData(Zero32 + "00" + "0002" + "1301" + "0100" + "0002" + "0000", "an extension cut in its header")]
    [InlineData(Zero32 + "00" + "0002" + "1301" + "0100" + "0004" + "0015" + "0001", "an extension length overrunning the extensions")]
    [InlineData(Zero32 + "00" + "0002" + "1301" + "0100" + "0004" + "0000" + "0000", "an empty server_name extension")]
    [InlineData(Zero32 + "00" + "0002" + "1301" + "0100" + "0006" + "0000" + "0002" + "0000", "an empty server_name list")]
    [InlineData(Zero32 + "00" + "0002" + "1301" + "0100" + "0008" + "0000" + "0004" + "0002" + "0000", "a server_name list cut in an entry")]
    [InlineData(Zero32 + "00" + "0002" + "1301" + "0100" + "0006" + "002b" + "0002" + "0103", "supported_versions with an odd list length")]
    [InlineData(Zero32 + "00" + "0002" + "1301" + "0100" + "0005" + "002b" + "0001" + "00", "supported_versions with an empty list")]
    [InlineData(Zero32 + "00" + "0002" + "1301" + "0100" + "0008" + "002b" + "0004" + "04" + "0304", "supported_versions with a list length overrunning the extension")]
    [InlineData(Zero32 + "00" + "0002" + "1301" + "0100" + "000e" + "002b" + "0003" + "02" + "0304" + "002b" + "0003" + "02" + "0303", "supported_versions twice")]
    public void BrokenClientHelloBodies_AreMalformed(string bodyAfterVersion, string what)
    {
        byte[] hello = Records(HandshakeMessage(Convert.FromHexString("0303" + bodyAfterVersion)));

        ClientHelloStatus status = ClientHello.TryParse(hello, MaxSize, out _);

        Assert.True(status == ClientHelloStatus.Malformed, $"{what}: {status}");
    }

    [Fact]
    public void SmallestValidClientHello_WithoutExtensions_IsComplete()
    {
        // SSL 3.0 style: nothing after the compression methods.
        byte[] hello = Records(HandshakeMessage(Convert.FromHexString("0303" + Zero32 + "00" + "0002" + "1301" + "0100")));

        ClientHelloInfo info = AssertComplete(hello);

        Assert.Equal(new ClientHelloInfo(null, 0x0303, false, hello.Length), info);
    }

    [Fact]
    public async Task RealClientHello_WithInconsistentLengths_IsMalformed()
    {
        byte[] message = Message(await CaptureDotNetClientHelloAsync("api.example.com"));
        int extensions = ExtensionsOffset(message);
        int sni = FindExtension(message, ServerNameExtension);

        AssertMalformed(message, m => Add16(m, extensions, 1), "extensions length one too long");
        AssertMalformed(message, m => Add16(m, extensions, -1), "extensions length one too short");
        AssertMalformed(message, m => Add16(m, sni + 2, 1), "server_name extension length one too long");
        AssertMalformed(message, m => Add16(m, sni + 4, 1), "server_name list length one too long");
        AssertMalformed(message, m => Add16(m, sni + 4, -1), "server_name list length one too short");
        AssertMalformed(message, m => Add16(m, sni + 7, 1), "host name length one too long");
        AssertMalformed(message, m => Add16(m, 2, -1), "handshake length one too short (bytes left in the record)");

        byte[] longerHandshake = (byte[])message.Clone();
        Add16(longerHandshake, 2, 1);
        Assert.Equal(ClientHelloStatus.NeedMoreData, ClientHello.TryParse(Records(longerHandshake), MaxSize, out _));
    }

    [Fact]
    public async Task TwoServerNameExtensions_AreMalformed()
    {
        byte[] message = Message(await CaptureDotNetClientHelloAsync("api.example.com"));

        byte[] twice = WithExtension(message, ServerNameExtension, ServerNameBody("other.example.net"u8));

        Assert.Equal(ClientHelloStatus.Malformed, ClientHello.TryParse(Records(twice), MaxSize, out _));
    }

    [Fact]
    public async Task TwoHostNamesInOneExtension_AreMalformed()
    {
        byte[] message = Message(await CaptureDotNetClientHelloAsync("127.0.0.1"));
        byte[] first = ServerNameBody("a.example"u8);
        byte[] second = ServerNameBody("b.example"u8);
        byte[] list = [.. first[2..], .. second[2..]];
        byte[] body = [(byte)(list.Length >> 8), (byte)list.Length, .. list];

        byte[] twice = WithExtension(message, ServerNameExtension, body);

        Assert.Equal(ClientHelloStatus.Malformed, ClientHello.TryParse(Records(twice), MaxSize, out _));
    }

    [Theory]
    [InlineData((byte)'/')]
    [InlineData((byte)0x00)]
    [InlineData((byte)' ')]
    [InlineData((byte)'%')]
    [InlineData((byte)':')]
    [InlineData((byte)0xC3)]
    [InlineData((byte)0x7F)]
    public async Task HostName_WithABadByte_IsMalformed(byte bad)
    {
        byte[] records = await CaptureDotNetClientHelloAsync("api.example.com");
        int at = records.AsSpan().IndexOf("api.example.com"u8);
        Assert.True(at > 0);

        records[at + 3] = bad;

        Assert.Equal(ClientHelloStatus.Malformed, ClientHello.TryParse(records, MaxSize, out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData(".example.com")]
    [InlineData("api..example.com")]
    [InlineData("api.example.com..")]
    [InlineData("api example.com")]
    public async Task HostName_NotADnsName_IsMalformed(string name)
    {
        byte[] message = Message(await CaptureDotNetClientHelloAsync("127.0.0.1"));

        byte[] hello = WithExtension(message, ServerNameExtension, ServerNameBody(Encoding.ASCII.GetBytes(name)));

        Assert.Equal(ClientHelloStatus.Malformed, ClientHello.TryParse(Records(hello), MaxSize, out _));
    }

    [Theory]
    [InlineData("Trailing.Dot.Example.", "trailing.dot.example")]
    [InlineData("under_score-1.EXAMPLE", "under_score-1.example")]
    [InlineData("localhost", "localhost")]
    [InlineData("x", "x")]
    public async Task HostName_Legal_IsLowercasedWithoutTrailingDot(string name, string expected)
    {
        byte[] message = Message(await CaptureDotNetClientHelloAsync("127.0.0.1"));

        byte[] hello = WithExtension(message, ServerNameExtension, ServerNameBody(Encoding.ASCII.GetBytes(name)));

        Assert.Equal(expected, AssertComplete(Records(hello)).ServerName);
    }

    [Fact]
    public async Task ServerNameList_OfAnUnknownNameTypeOnly_GivesNoServerName()
    {
        byte[] message = Message(await CaptureDotNetClientHelloAsync("127.0.0.1"));
        byte[] body = ServerNameBody("opaque"u8);
        body[2] = 7;

        byte[] hello = WithExtension(message, ServerNameExtension, body);

        Assert.Null(AssertComplete(Records(hello)).ServerName);
    }

    [Fact]
    public async Task HostName_LongerThan255_IsMalformed_And255_IsAccepted()
    {
        byte[] message = Message(await CaptureDotNetClientHelloAsync("127.0.0.1"));
        string label = new('a', 63);
        string name255 = $"{label}.{label}.{label}.{new string('b', 63)}";
        Assert.Equal(255, name255.Length);

        byte[] accepted = WithExtension(message, ServerNameExtension, ServerNameBody(Encoding.ASCII.GetBytes(name255)));
        byte[] refused = WithExtension(message, ServerNameExtension, ServerNameBody(Encoding.ASCII.GetBytes(name255 + "c")));

        Assert.Equal(name255, AssertComplete(Records(accepted)).ServerName);
        Assert.Equal(ClientHelloStatus.Malformed, ClientHello.TryParse(Records(refused), MaxSize, out _));
    }

    [Fact]
    public async Task HugeClientHello_OverSeveralRecords_IsTooLarge_AndCompleteUnderABiggerLimit()
    {
        byte[] message = Message(await CaptureDotNetClientHelloAsync("api.example.com"));
        byte[] huge = WithExtension(message, PaddingExtension, new byte[20 * 1024]);
        byte[] records = Records(huge, 16384);
        Assert.Equal(2, CountRecords(records));

        Assert.Equal(ClientHelloStatus.TooLarge, ClientHello.TryParse(records, MaxSize, out _));
        // The handshake header alone tells: no need to wait for 16 KiB first.
        Assert.Equal(ClientHelloStatus.TooLarge, ClientHello.TryParse(records.AsSpan(0, 9), MaxSize, out _));

        ClientHelloInfo info = AssertComplete(records, maxSize: 64 * 1024);
        Assert.Equal("api.example.com", info.ServerName);
        Assert.Equal(records.Length, info.Length);
    }

    [Fact]
    public async Task ManySmallRecords_NeedingMoreThanMaxSize_AreTooLarge()
    {
        byte[] message = Message(await CaptureDotNetClientHelloAsync("api.example.com"));
        int[] fours = Enumerable.Repeat(4, (message.Length - 1) / 4).ToArray();
        byte[] records = Records(message, fours);
        Assert.True(records.Length > message.Length + 200);

        // The message itself fits in the limit, its records do not.
        int maxSize = message.Length + 100;
        Assert.Equal(ClientHelloStatus.TooLarge, ClientHello.TryParse(records, maxSize, out _));
        for (int length = 0; length < maxSize; length++)
        {
            Assert.Equal(ClientHelloStatus.NeedMoreData, ClientHello.TryParse(records.AsSpan(0, length), maxSize, out _));
        }

        Assert.Equal(records.Length, AssertComplete(records, maxSize: records.Length).Length);
        Assert.Equal(ClientHelloStatus.TooLarge, ClientHello.TryParse(records, records.Length - 1, out _));
    }

    [Fact]
    public async Task ClientHello_ExactlyMaxSize_IsComplete_AndOneByteLess_IsTooLarge()
    {
        byte[] records = await CaptureDotNetClientHelloAsync("api.example.com");

        Assert.Equal(records.Length, AssertComplete(records, maxSize: records.Length).Length);
        Assert.Equal(ClientHelloStatus.TooLarge, ClientHello.TryParse(records, records.Length - 1, out _));
    }

    [Fact]
    public async Task Parsing_AllocatesNothing_ButTheServerName()
    {
        byte[] withoutName = await CaptureDotNetClientHelloAsync("127.0.0.1");
        byte[] withName = await CaptureDotNetClientHelloAsync("api.example.com");
        byte[] fragmented = Records(Message(withoutName), 50, 50);
        byte[] huge = Records(WithExtension(Message(withoutName), PaddingExtension, new byte[20 * 1024]), 16384);
        int maxSize = 64 * 1024;

        // Warm up: the first calls compile the parser and fill the array pool's bucket.
        for (int i = 0; i < 3; i++)
        {
            ClientHello.TryParse(withoutName, maxSize, out _);
            ClientHello.TryParse(withName, maxSize, out _);
            ClientHello.TryParse(fragmented, maxSize, out _);
            ClientHello.TryParse(huge, maxSize, out _);
        }

        Assert.Equal(0, AllocatedBy(() => ClientHello.TryParse(withoutName, maxSize, out _)));
        Assert.Equal(0, AllocatedBy(() => ClientHello.TryParse(fragmented, maxSize, out _)));
        Assert.Equal(0, AllocatedBy(() => ClientHello.TryParse(huge, maxSize, out _)));
        Assert.InRange(AllocatedBy(() => ClientHello.TryParse(withName, maxSize, out _)), 1, 64);

        static long AllocatedBy(Action parse)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            parse();
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
    }

    [Fact]
    public async Task EveryOneByteCorruption_IsParsedWithoutThrowing()
    {
        byte[] records = Records(Message(await CaptureDotNetClientHelloAsync("api.example.com")), 77, 150);
        byte[] corrupted = new byte[records.Length];
        int complete = 0;
        for (int i = 0; i < records.Length; i++)
        {
            foreach (byte value in new byte[] { 0x00, 0xFF, (byte)(records[i] + 1) })
            {
                records.CopyTo(corrupted, 0);
                corrupted[i] = value;

                ClientHelloStatus status = ClientHello.TryParse(corrupted, MaxSize, out ClientHelloInfo info);

                if (status == ClientHelloStatus.Complete)
                {
                    complete++;
                    Assert.InRange(info.Length, 1, corrupted.Length);
                }
            }
        }

        // The random, cipher suites and most extension bodies are not checked: changing them keeps a valid ClientHello.
        Assert.InRange(complete, 1, records.Length * 3 - 1);
    }

    private static ClientHelloInfo AssertComplete(byte[] data, int maxSize = MaxSize)
    {
        ClientHelloStatus status = ClientHello.TryParse(data, maxSize, out ClientHelloInfo info);
        Assert.Equal(ClientHelloStatus.Complete, status);
        return info;
    }

    private static void AssertEveryPrefixNeedsMoreData(byte[] records)
    {
        for (int length = 0; length < records.Length; length++)
        {
            ClientHelloStatus status = ClientHello.TryParse(records.AsSpan(0, length), MaxSize, out ClientHelloInfo info);
            Assert.True(status == ClientHelloStatus.NeedMoreData, $"{status} for the first {length} of {records.Length} bytes");
            Assert.Equal(default, info);
        }
    }

    private static void AssertMalformed(byte[] message, Action<byte[]> corrupt, string what)
    {
        byte[] copy = (byte[])message.Clone();
        corrupt(copy);
        ClientHelloStatus status = ClientHello.TryParse(Records(copy), MaxSize, out _);
        Assert.True(status == ClientHelloStatus.Malformed, $"{what}: {status}");
    }

    private static void Add16(byte[] bytes, int offset, int delta) =>
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(offset), (ushort)(BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(offset)) + delta));

    // ---- Real ClientHellos ----

    /// <summary>Runs an <see cref="SslStream"/> client against a loopback socket and returns the records of its ClientHello.</summary>
    private static async Task<byte[]> CaptureDotNetClientHelloAsync(string targetHost, List<SslApplicationProtocol>? protocols = null, SslProtocols protocolVersions = SslProtocols.None)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var timeout = new CancellationTokenSource(Wait.DefaultDeadline);
        using var client = new TcpClient();
        await client.ConnectAsync((IPEndPoint)listener.LocalEndpoint, timeout.Token);
        using Socket server = await listener.AcceptSocketAsync(timeout.Token);
        var tls = new SslStream(client.GetStream(), leaveInnerStreamOpen: false);
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = targetHost,
            ApplicationProtocols = protocols,
            EnabledSslProtocols = protocolVersions,
        };
        Task handshake = tls.AuthenticateAsClientAsync(options, timeout.Token);
        try
        {
            return await ReadClientHelloRecordsAsync(server);
        }
        finally
        {
            server.Close();
            try
            {
                await handshake.WithDeadline("the TLS client gave up");
            }
            catch (Exception ex) when (ex is AuthenticationException or IOException or OperationCanceledException)
            {
                // Expected: the server hung up without answering the ClientHello.
            }

            await tls.DisposeAsync();
        }
    }

    private static Task<byte[]> CaptureDotNetClientHelloAsync(string targetHost, SslProtocols protocols) =>
        CaptureDotNetClientHelloAsync(targetHost, null, protocols);

    /// <summary>Runs openssl s_client against a loopback socket and returns the records of its ClientHello.</summary>
    private static async Task<byte[]> CaptureOpenSslClientHelloAsync(string openssl, string serverName)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var timeout = new CancellationTokenSource(Wait.DefaultDeadline);
        var start = new ProcessStartInfo(openssl, ["s_client", "-connect", $"127.0.0.1:{port}", "-servername", serverName])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using Process process = Process.Start(start) ?? throw new InvalidOperationException("openssl did not start");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using Socket server = await listener.AcceptSocketAsync(timeout.Token);
            return await ReadClientHelloRecordsAsync(server);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }

            await process.WaitForExitAsync().WithDeadline("openssl s_client exited");
        }
    }

    /// <summary>
    /// Reads whole handshake records until they carry one whole handshake message, independently of the parser under test.
    /// </summary>
    private static async Task<byte[]> ReadClientHelloRecordsAsync(Socket socket)
    {
        var records = new List<byte>();
        var handshake = new List<byte>();
        int messageLength = int.MaxValue;
        while (handshake.Count < messageLength)
        {
            byte[] header = await socket.ReadExactlyAsync(5);
            Assert.Equal(HandshakeRecord, header[0]);
            byte[] fragment = await socket.ReadExactlyAsync(BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(3)));
            records.AddRange(header);
            records.AddRange(fragment);
            handshake.AddRange(fragment);
            if (messageLength == int.MaxValue && handshake.Count >= 4)
            {
                messageLength = 4 + (handshake[1] << 16 | handshake[2] << 8 | handshake[3]);
            }
        }

        return [.. records];
    }

    // ---- Rebuilding records and messages ----

    /// <summary>The handshake message carried by <paramref name="records"/>: their fragments, concatenated.</summary>
    private static byte[] Message(byte[] records)
    {
        var message = new List<byte>();
        for (int position = 0; position < records.Length;)
        {
            int length = BinaryPrimitives.ReadUInt16BigEndian(records.AsSpan(position + 3));
            message.AddRange(records.AsSpan(position + 5, length));
            position += 5 + length;
        }

        return [.. message];
    }

    /// <summary>Wraps a handshake message in records with the given fragment sizes; the last record takes the rest.</summary>
    private static byte[] Records(byte[] message, params int[] fragmentSizes)
    {
        var records = new List<byte>();
        int position = 0;
        foreach (int size in fragmentSizes.Append(int.MaxValue))
        {
            int length = Math.Min(size, message.Length - position);
            Assert.True(length > 0, "the fragment sizes leave an empty record");
            records.AddRange([HandshakeRecord, 0x03, 0x01, (byte)(length >> 8), (byte)length]);
            records.AddRange(message.AsSpan(position, length));
            position += length;
        }

        Assert.Equal(message.Length, position);
        return [.. records];
    }

    private static int CountRecords(byte[] records)
    {
        int count = 0;
        for (int position = 0; position < records.Length; position += 5 + BinaryPrimitives.ReadUInt16BigEndian(records.AsSpan(position + 3)))
        {
            count++;
        }

        return count;
    }

    /// <summary>Where the 2-byte length of the extensions block of a ClientHello message is.</summary>
    private static int ExtensionsOffset(byte[] message)
    {
        int position = 4 + 2 + 32;
        position += 1 + message[position];
        position += 2 + BinaryPrimitives.ReadUInt16BigEndian(message.AsSpan(position));
        position += 1 + message[position];
        return position;
    }

    /// <summary>Where the extension of the given type starts (its type field).</summary>
    private static int FindExtension(byte[] message, ushort type)
    {
        int position = ExtensionsOffset(message) + 2;
        while (position < message.Length)
        {
            if (BinaryPrimitives.ReadUInt16BigEndian(message.AsSpan(position)) == type)
            {
                return position;
            }

            position += 4 + BinaryPrimitives.ReadUInt16BigEndian(message.AsSpan(position + 2));
        }

        throw new InvalidOperationException($"no extension {type}");
    }

    /// <summary>A ClientHello handshake message: the 4-byte handshake header, then <paramref name="body"/>.</summary>
    private static byte[] HandshakeMessage(byte[] body) =>
        [0x01, (byte)(body.Length >> 16), (byte)(body.Length >> 8), (byte)body.Length, .. body];

    /// <summary>A copy of the message with one more extension first in its list, every length fixed up.</summary>
    private static byte[] WithExtension(byte[] message, ushort type, byte[] body)
    {
        int extensions = ExtensionsOffset(message);
        byte[] extension = [(byte)(type >> 8), (byte)type, (byte)(body.Length >> 8), (byte)body.Length, .. body];
        byte[] result = [.. message.AsSpan(0, extensions + 2), .. extension, .. message.AsSpan(extensions + 2)];
        int bodyLength = result.Length - 4;
        result[1] = (byte)(bodyLength >> 16);
        result[2] = (byte)(bodyLength >> 8);
        result[3] = (byte)bodyLength;
        Add16(result, extensions, extension.Length);
        return result;
    }

    /// <summary>A server_name extension body with one host_name entry.</summary>
    private static byte[] ServerNameBody(ReadOnlySpan<byte> hostName)
    {
        int listLength = 3 + hostName.Length;
        return [(byte)(listLength >> 8), (byte)listLength, 0x00, (byte)(hostName.Length >> 8), (byte)hostName.Length, .. hostName];
    }

    /// <summary>The host name bytes exactly as the client put them on the wire, for the test output.</summary>
    private static string SniAsSent(byte[] records)
    {
        byte[] message = Message(records);
        int sni = FindExtension(message, ServerNameExtension);
        int length = BinaryPrimitives.ReadUInt16BigEndian(message.AsSpan(sni + 7));
        return Encoding.ASCII.GetString(message, sni + 9, length);
    }
}
