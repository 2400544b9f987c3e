using System.Net;
using System.Text;
using PluginProxy.Abstractions;
using PluginProxy.Host.Accept;

namespace PluginProxy.Tests.Accept;

public class ProxyProtocolParserTests
{
    private static (ProxyParseStatus Status, ProxyHeader? Header, int Consumed, string? Error) Parse(byte[] data)
    {
        ProxyParseStatus status = ProxyProtocolParser.TryParse(data, out ProxyHeader? header, out int consumed, out string? error);
        return (status, header, consumed, error);
    }

    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    internal static byte[] V2(byte command, byte family, byte[] addresses, byte[]? tlvs = null, int? declaredLength = null)
    {
        byte[] signature = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];
        tlvs ??= [];
        int length = declaredLength ?? addresses.Length + tlvs.Length;
        return [.. signature, (byte)(0x20 | command), family, (byte)(length >> 8), (byte)length, .. addresses, .. tlvs];
    }

    internal static byte[] V2Inet(IPAddress source, int sourcePort, IPAddress destination, int destinationPort, byte[]? tlvs = null)
    {
        byte[] addresses = [.. source.GetAddressBytes(), .. destination.GetAddressBytes(),
            (byte)(sourcePort >> 8), (byte)sourcePort, (byte)(destinationPort >> 8), (byte)destinationPort];
        return V2(1, source.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? (byte)0x11 : (byte)0x21, addresses, tlvs);
    }

    [Fact]
    public void V1Tcp4_GivesAddressesAndConsumesExactlyTheLine()
    {
        byte[] data = Ascii("PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\r\nGET / HTTP/1.1\r\n");

        var (status, header, consumed, _) = Parse(data);

        Assert.Equal(ProxyParseStatus.Done, status);
        Assert.Equal(46, consumed);
        Assert.Equal(1, header!.Version);
        Assert.False(header.IsLocal);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.10"), 56324), header.Source);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("198.51.100.1"), 443), header.Destination);
    }

    [Fact]
    public void V1Tcp6_Parses()
    {
        var (status, header, _, _) = Parse(Ascii("PROXY TCP6 2001:db8::1 2001:db8::2 1000 80\r\n"));

        Assert.Equal(ProxyParseStatus.Done, status);
        Assert.Equal(IPAddress.Parse("2001:db8::1"), header!.Source!.Address);
        Assert.Equal(80, header.Destination!.Port);
    }

    [Fact]
    public void V1Unknown_IsLocal_AndIgnoresTheRest()
    {
        var (status, header, consumed, _) = Parse(Ascii("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\nX"));

        Assert.Equal(ProxyParseStatus.Done, status);
        Assert.True(header!.IsLocal);
        Assert.Null(header.Source);
        Assert.Equal(35, consumed);
    }

    [Theory]
    [InlineData("P")]
    [InlineData("PROXY ")]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 5632")]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\r")]
    public void V1Truncated_NeedsMore(string text) =>
        Assert.Equal(ProxyParseStatus.NeedMore, Parse(Ascii(text)).Status);

    [Theory]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\n", "CRLF")]
    [InlineData("PROXY TCP5 192.0.2.10 198.51.100.1 56324 443\r\n", "TCP4, TCP6 or UNKNOWN")]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 56324\r\n", "expected 6")]
    [InlineData("PROXY TCP4  192.0.2.10 198.51.100.1 56324 443\r\n", "expected 6")]
    [InlineData("PROXY TCP4 192.0.2 198.51.100.1 56324 443\r\n", "addresses")]
    [InlineData("PROXY TCP4 2001:db8::1 198.51.100.1 56324 443\r\n", "addresses")]
    [InlineData("PROXY TCP6 192.0.2.10 198.51.100.1 56324 443\r\n", "addresses")]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 65536 443\r\n", "ports")]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 -1 443\r\n", "ports")]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 0443 443\r\n", "ports")]
    [InlineData("PROXY\tTCP4 192.0.2.10 198.51.100.1 1 443\r\n", "the connection does not start")]
    [InlineData("PROXY TCP4 192.0.2.10\t198.51.100.1 1 443\r\n", "control")]
    [InlineData("GET / HTTP/1.1\r\n", "does not start with a PROXY protocol header")]
    [InlineData("PROXZ TCP4", "does not start with a PROXY protocol header")]
    public void V1Malformed_IsInvalid(string text, string expected)
    {
        var (status, _, _, error) = Parse(Ascii(text));

        Assert.Equal(ProxyParseStatus.Invalid, status);
        Assert.Contains(expected, error);
    }

    [Fact]
    public void V1Oversized_IsInvalidEvenWithoutALineEnd()
    {
        string line = "PROXY UNKNOWN " + new string('a', 100);

        var (status, _, _, error) = Parse(Ascii(line));

        Assert.Equal(ProxyParseStatus.Invalid, status);
        Assert.Contains("longer than 107", error);
    }

    [Fact]
    public void V1AtTheMaximumLength_IsAccepted()
    {
        string line = "PROXY UNKNOWN " + new string('a', 107 - 14 - 2) + "\r\n";
        Assert.Equal(107, line.Length);

        Assert.Equal(ProxyParseStatus.Done, Parse(Ascii(line)).Status);
    }

    [Fact]
    public void V2Inet_GivesAddresses_AndConsumesExactlyTheHeader()
    {
        byte[] header = V2Inet(IPAddress.Parse("192.0.2.10"), 56324, IPAddress.Parse("198.51.100.1"), 443);
        byte[] data = [.. header, .. Ascii("payload")];

        var (status, parsed, consumed, _) = Parse(data);

        Assert.Equal(ProxyParseStatus.Done, status);
        Assert.Equal(28, consumed);
        Assert.Equal(2, parsed!.Version);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.10"), 56324), parsed.Source);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("198.51.100.1"), 443), parsed.Destination);
    }

    [Fact]
    public void V2Inet6_WithTlvs_ParsesBoth()
    {
        byte[] tlvs = [0x02, 0x00, 0x03, (byte)'a', (byte)'.', (byte)'b', 0x04, 0x00, 0x00];
        byte[] data = V2Inet(IPAddress.Parse("2001:db8::1"), 1234, IPAddress.Parse("2001:db8::2"), 443, tlvs);

        var (status, parsed, consumed, _) = Parse(data);

        Assert.Equal(ProxyParseStatus.Done, status);
        Assert.Equal(data.Length, consumed);
        Assert.Equal(IPAddress.Parse("2001:db8::1"), parsed!.Source!.Address);
        Assert.Equal(2, parsed.Tlvs.Count);
        Assert.Equal(0x02, parsed.Tlvs[0].Type);
        Assert.Equal("a.b", Encoding.ASCII.GetString(parsed.Tlvs[0].Value.Span));
        Assert.Equal(0, parsed.Tlvs[1].Value.Length);
    }

    [Fact]
    public void V2Local_IsLocal()
    {
        var (status, parsed, consumed, _) = Parse(V2(0, 0x00, []));

        Assert.Equal(ProxyParseStatus.Done, status);
        Assert.Equal(16, consumed);
        Assert.True(parsed!.IsLocal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(12)]
    [InlineData(15)]
    [InlineData(27)]
    public void V2Truncated_NeedsMore(int length)
    {
        byte[] header = V2Inet(IPAddress.Parse("192.0.2.10"), 1, IPAddress.Parse("198.51.100.1"), 2);

        Assert.Equal(ProxyParseStatus.NeedMore, Parse(header[..length]).Status);
    }

    [Fact]
    public void V2WrongVersion_IsInvalid()
    {
        byte[] header = V2Inet(IPAddress.Parse("192.0.2.10"), 1, IPAddress.Parse("198.51.100.1"), 2);
        header[12] = 0x11;

        var (status, _, _, error) = Parse(header);
        Assert.Equal(ProxyParseStatus.Invalid, status);
        Assert.Contains("version 1", error);
    }

    [Fact]
    public void V2UnknownCommand_IsInvalid()
    {
        byte[] header = V2Inet(IPAddress.Parse("192.0.2.10"), 1, IPAddress.Parse("198.51.100.1"), 2);
        header[12] = 0x22;

        Assert.Contains("command 2", Parse(header).Error);
    }

    [Fact]
    public void V2LengthTooShortForItsFamily_IsInvalid()
    {
        var (status, _, _, error) = Parse(V2(1, 0x11, new byte[8]));

        Assert.Equal(ProxyParseStatus.Invalid, status);
        Assert.Contains("too short for its addresses", error);
    }

    [Fact]
    public void V2TlvOverrunningTheHeader_IsInvalid()
    {
        byte[] tlvs = [0x02, 0x00, 0x09, (byte)'a'];
        byte[] header = V2Inet(IPAddress.Parse("192.0.2.10"), 1, IPAddress.Parse("198.51.100.1"), 2, tlvs);

        Assert.Contains("overruns", Parse(header).Error);
    }

    [Fact]
    public void V2Oversized_IsInvalidBeforeItsBodyArrives()
    {
        byte[] header = V2(1, 0x11, [], declaredLength: 65535);

        var (status, _, _, error) = Parse(header);
        Assert.Equal(ProxyParseStatus.Invalid, status);
        Assert.Contains("larger than", error);
    }

    [Fact]
    public void V2BadSignature_IsInvalid()
    {
        byte[] header = V2Inet(IPAddress.Parse("192.0.2.10"), 1, IPAddress.Parse("198.51.100.1"), 2);
        header[5] = 0x00;

        Assert.Equal(ProxyParseStatus.Invalid, Parse(header).Status);
    }
}
