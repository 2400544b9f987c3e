using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using PluginProxy.Abstractions;

namespace PluginProxy.Host.Accept;

/// <summary>The outcome of <see cref="ProxyProtocolParser.TryParse"/>.</summary>
internal enum ProxyParseStatus
{
    /// <summary>A whole, valid header was read; <c>consumed</c> bytes belong to it.</summary>
    Done,

    /// <summary>The bytes so far are a valid beginning of a header: read more.</summary>
    NeedMore,

    /// <summary>The bytes are not a valid PROXY header (the error says why).</summary>
    Invalid,
}

/// <summary>
/// Parses PROXY protocol headers (haproxy.org proxy-protocol.txt): the v1 text line and the v2 binary header.
/// Strict: anything the specification does not allow is refused, since the header decides who the client is.
/// </summary>
internal static class ProxyProtocolParser
{
    /// <summary>A v1 line is at most 107 bytes, CRLF included.</summary>
    public const int MaxV1Length = 107;

    /// <summary>The largest v2 header accepted (16-byte preamble plus addresses and TLVs).</summary>
    public const int MaxV2Length = 16 + 4096;

    private static ReadOnlySpan<byte> V2Signature => [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    private static ReadOnlySpan<byte> V1Prefix => "PROXY "u8;

    public static ProxyParseStatus TryParse(ReadOnlySpan<byte> data, out ProxyHeader? header, out int consumed, out string? error)
    {
        header = null;
        consumed = 0;
        error = null;
        if (data.IsEmpty)
        {
            return ProxyParseStatus.NeedMore;
        }

        if (data[0] == V2Signature[0])
        {
            return TryParseV2(data, out header, out consumed, out error);
        }

        if (data[0] == (byte)'P')
        {
            return TryParseV1(data, out header, out consumed, out error);
        }

        error = "the connection does not start with a PROXY protocol header";
        return ProxyParseStatus.Invalid;
    }

    private static ProxyParseStatus TryParseV1(ReadOnlySpan<byte> data, out ProxyHeader? header, out int consumed, out string? error)
    {
        header = null;
        consumed = 0;
        error = null;
        int prefix = Math.Min(data.Length, V1Prefix.Length);
        if (!data[..prefix].SequenceEqual(V1Prefix[..prefix]))
        {
            error = "the connection does not start with a PROXY protocol header";
            return ProxyParseStatus.Invalid;
        }

        int lf = data[..Math.Min(data.Length, MaxV1Length)].IndexOf((byte)'\n');
        if (lf < 0)
        {
            if (data.Length >= MaxV1Length)
            {
                error = $"PROXY v1 line longer than {MaxV1Length} bytes";
                return ProxyParseStatus.Invalid;
            }

            // A byte outside printable ASCII can be refused early, except a final CR that may precede the coming LF.
            int checkedLength = data[^1] == '\r' ? data.Length - 1 : data.Length;
            return FirstBadV1Byte(data, checkedLength) is { } bad ? Fail(bad, out error) : ProxyParseStatus.NeedMore;
        }

        if (lf == 0 || data[lf - 1] != '\r')
        {
            error = "PROXY v1 line does not end with CRLF";
            return ProxyParseStatus.Invalid;
        }

        if (FirstBadV1Byte(data, lf - 1) is { } badByte)
        {
            return Fail(badByte, out error);
        }

        string line = Encoding.ASCII.GetString(data[..(lf - 1)]);
        string[] fields = line.Split(' ');
        consumed = lf + 1;
        if (fields.Length >= 2 && fields[1] == "UNKNOWN")
        {
            // "PROXY UNKNOWN" may be followed by anything; the receiver ignores it and keeps the real peer.
            header = new ProxyHeader(1, isLocal: true, null, null);
            return ProxyParseStatus.Done;
        }

        if (fields.Length != 6)
        {
            error = $"PROXY v1 line has {fields.Length} fields, expected 6: PROXY TCP4|TCP6 src dst sport dport";
            return ProxyParseStatus.Invalid;
        }

        AddressFamily family;
        switch (fields[1])
        {
            case "TCP4": family = AddressFamily.InterNetwork; break;
            case "TCP6": family = AddressFamily.InterNetworkV6; break;
            default:
                error = $"PROXY v1 protocol \"{fields[1]}\" is not TCP4, TCP6 or UNKNOWN";
                return ProxyParseStatus.Invalid;
        }

        if (!TryParseV1Address(fields[2], family, out IPAddress? source) || !TryParseV1Address(fields[3], family, out IPAddress? destination))
        {
            error = $"PROXY v1 addresses \"{fields[2]}\" and \"{fields[3]}\" are not both {fields[1]} addresses";
            return ProxyParseStatus.Invalid;
        }

        if (!TryParsePort(fields[4], out int sourcePort) || !TryParsePort(fields[5], out int destinationPort))
        {
            error = $"PROXY v1 ports \"{fields[4]}\" and \"{fields[5]}\" are not both numbers from 0 to 65535";
            return ProxyParseStatus.Invalid;
        }

        header = new ProxyHeader(1, isLocal: false, new IPEndPoint(source!, sourcePort), new IPEndPoint(destination!, destinationPort));
        return ProxyParseStatus.Done;
    }

    private static int? FirstBadV1Byte(ReadOnlySpan<byte> data, int length)
    {
        for (int i = 0; i < length; i++)
        {
            if (data[i] < 0x20 || data[i] > 0x7E)
            {
                return i;
            }
        }

        return null;
    }

    private static ProxyParseStatus Fail(int position, out string? error)
    {
        error = $"PROXY v1 line has a control or non-ASCII byte at offset {position}";
        return ProxyParseStatus.Invalid;
    }

    private static bool TryParseV1Address(string text, AddressFamily family, out IPAddress? address)
    {
        address = null;
        if (text.Length == 0 || (family == AddressFamily.InterNetwork && !text.All(c => char.IsAsciiDigit(c) || c == '.')))
        {
            return false;
        }

        if (family == AddressFamily.InterNetworkV6 && !text.All(c => char.IsAsciiHexDigit(c) || c == ':' || c == '.'))
        {
            return false;
        }

        return IPAddress.TryParse(text, out address) && address.AddressFamily == family &&
               (family != AddressFamily.InterNetwork || text.Count(c => c == '.') == 3);
    }

    private static bool TryParsePort(string text, out int port)
    {
        port = 0;
        return text.Length is > 0 and <= 5 && text.All(char.IsAsciiDigit) &&
               !(text.Length > 1 && text[0] == '0') &&
               int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port <= 65535;
    }

    private static ProxyParseStatus TryParseV2(ReadOnlySpan<byte> data, out ProxyHeader? header, out int consumed, out string? error)
    {
        header = null;
        consumed = 0;
        error = null;
        int signature = Math.Min(data.Length, V2Signature.Length);
        if (!data[..signature].SequenceEqual(V2Signature[..signature]))
        {
            error = "the connection does not start with a PROXY protocol header";
            return ProxyParseStatus.Invalid;
        }

        if (data.Length < 16)
        {
            // Check what can be checked already, so garbage is refused without waiting.
            if (data.Length > 12 && (data[12] >> 4) != 2)
            {
                error = $"PROXY v2 header has version {data[12] >> 4}, expected 2";
                return ProxyParseStatus.Invalid;
            }

            return ProxyParseStatus.NeedMore;
        }

        int version = data[12] >> 4;
        int command = data[12] & 0x0F;
        int family = data[13] >> 4;
        int transport = data[13] & 0x0F;
        int length = BinaryPrimitives.ReadUInt16BigEndian(data[14..]);
        if (version != 2)
        {
            error = $"PROXY v2 header has version {version}, expected 2";
            return ProxyParseStatus.Invalid;
        }

        if (command > 1)
        {
            error = $"PROXY v2 header has command {command}, expected LOCAL (0) or PROXY (1)";
            return ProxyParseStatus.Invalid;
        }

        if (family > 3 || transport > 2)
        {
            error = $"PROXY v2 header has an unknown address family {family} or transport {transport}";
            return ProxyParseStatus.Invalid;
        }

        if (16 + length > MaxV2Length)
        {
            error = $"PROXY v2 header of {16 + length} bytes is larger than the {MaxV2Length} accepted";
            return ProxyParseStatus.Invalid;
        }

        if (data.Length < 16 + length)
        {
            return ProxyParseStatus.NeedMore;
        }

        ReadOnlySpan<byte> body = data.Slice(16, length);
        consumed = 16 + length;
        int addressLength = family switch { 1 => 12, 2 => 36, 3 => 216, _ => 0 };
        if (body.Length < addressLength)
        {
            error = $"PROXY v2 header is {length} bytes long, too short for its addresses ({addressLength} bytes)";
            return ProxyParseStatus.Invalid;
        }

        if (!TryParseTlvs(body[addressLength..], out List<ProxyHeaderTlv>? tlvs, out error))
        {
            return ProxyParseStatus.Invalid;
        }

        // LOCAL: a health check or the proxy speaking for itself; UNSPEC and UNIX carry no IP addresses.
        if (command == 0 || family is 0 or 3)
        {
            header = new ProxyHeader(2, isLocal: true, null, null, tlvs);
            return ProxyParseStatus.Done;
        }

        IPEndPoint source;
        IPEndPoint destination;
        if (family == 1)
        {
            source = new IPEndPoint(new IPAddress(body[..4]), BinaryPrimitives.ReadUInt16BigEndian(body[8..]));
            destination = new IPEndPoint(new IPAddress(body.Slice(4, 4)), BinaryPrimitives.ReadUInt16BigEndian(body[10..]));
        }
        else
        {
            source = new IPEndPoint(new IPAddress(body[..16]), BinaryPrimitives.ReadUInt16BigEndian(body[32..]));
            destination = new IPEndPoint(new IPAddress(body.Slice(16, 16)), BinaryPrimitives.ReadUInt16BigEndian(body[34..]));
        }

        header = new ProxyHeader(2, isLocal: false, source, destination, tlvs);
        return ProxyParseStatus.Done;
    }

    private static bool TryParseTlvs(ReadOnlySpan<byte> data, out List<ProxyHeaderTlv>? tlvs, out string? error)
    {
        tlvs = null;
        error = null;
        int offset = 0;
        while (offset < data.Length)
        {
            if (data.Length - offset < 3)
            {
                error = "PROXY v2 header ends inside a TLV";
                return false;
            }

            byte type = data[offset];
            int length = BinaryPrimitives.ReadUInt16BigEndian(data[(offset + 1)..]);
            if (offset + 3 + length > data.Length)
            {
                error = $"PROXY v2 TLV 0x{type:X2} of {length} bytes overruns the header";
                return false;
            }

            (tlvs ??= []).Add(new ProxyHeaderTlv(type, data.Slice(offset + 3, length).ToArray()));
            offset += 3 + length;
        }

        return true;
    }
}
