using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace PluginProxy.Tcp.Tls;

/// <summary>The outcome of <see cref="ClientHello.TryParse"/>.</summary>
internal enum ClientHelloStatus
{
    /// <summary>The bytes so far are a valid start of a ClientHello; call again with more data.</summary>
    NeedMoreData,

    /// <summary>The ClientHello is complete and valid; the facts are in the <see cref="ClientHelloInfo"/>.</summary>
    Complete,

    /// <summary>The first bytes cannot start a TLS handshake record: plain text, another protocol, or an SSLv2 record.</summary>
    NotTls,

    /// <summary>A TLS handshake record whose lengths, message type or extensions are inconsistent or invalid.</summary>
    Malformed,

    /// <summary>The ClientHello, or the records needed to carry it, would be larger than the allowed size.</summary>
    TooLarge,
}

/// <summary>What a complete ClientHello tells a proxy that routes on it without terminating TLS.</summary>
/// <param name="ServerName">
/// The host_name of the server_name extension (SNI), in lowercase ASCII and without a trailing dot; null when the client
/// sent no server_name extension (clients leave it out when they connect to an IP address).
/// </param>
/// <param name="LegacyVersion">The legacy_version field of the ClientHello (0x0303 for TLS 1.2 and TLS 1.3 clients).</param>
/// <param name="OffersTls13">True when the supported_versions extension lists TLS 1.3 (0x0304).</param>
/// <param name="Length">
/// How many bytes at the start of the data the records carrying the ClientHello occupy, record headers included; what
/// follows (early data, or anything else the client sent) is not part of it.
/// </param>
internal readonly record struct ClientHelloInfo(string? ServerName, ushort LegacyVersion, bool OffersTls13, int Length);

/// <summary>
/// Reads the first message of a TLS connection, the ClientHello, without decrypting anything and allocating nothing but
/// the server name string, so that a tcp listener can route on the server name and then forward the bytes untouched.
/// </summary>
/// <remarks>
/// <para>
/// The parser is strict where a lenient reading could let the proxy and the server disagree about the server name: two
/// server_name extensions, two host names in one extension, or a host name with bytes that no DNS name has are
/// <see cref="ClientHelloStatus.Malformed"/> rather than "pick one".
/// </para>
/// <para>
/// The ClientHello may be split over several records (RFC 8446 §5.1 lets a sender cut handshake messages at any byte).
/// The common case, a ClientHello in one record, is read in place; a fragmented one is copied into one contiguous buffer
/// (the stack up to <see cref="StackCopyLimit"/> bytes, a pooled array above) and read from there.
/// </para>
/// </remarks>
internal static class ClientHello
{
    /// <summary>The TLS record content type of handshake records.</summary>
    private const byte HandshakeContentType = 0x16;

    /// <summary>The major version byte of every TLS record (SSL 3.0 to TLS 1.3 all have 3).</summary>
    private const byte RecordMajorVersion = 3;

    /// <summary>The handshake message type of a ClientHello.</summary>
    private const byte ClientHelloType = 1;

    private const int RecordHeaderLength = 5;
    private const int HandshakeHeaderLength = 4;

    /// <summary>The largest record length allowed on the wire (RFC 5246 §6.2.3: 2^14 plus 2048 of expansion).</summary>
    private const int MaxRecordLength = 16384 + 2048;

    private const int RandomLength = 32;
    private const int MaxSessionIdLength = 32;

    private const ushort ServerNameExtension = 0;
    private const ushort SupportedVersionsExtension = 43;
    private const byte HostNameType = 0;
    private const ushort Tls13Version = 0x0304;

    /// <summary>The longest host name RFC 6066 allows (its length field is 16 bits, but DNS names end at 255).</summary>
    private const int MaxHostNameLength = 255;

    /// <summary>A fragmented ClientHello up to this size is reassembled on the stack, a larger one in a pooled array.</summary>
    private const int StackCopyLimit = 4096;

    /// <summary>
    /// Parses the ClientHello at the start of <paramref name="data"/>, everything the client sent so far.
    /// </summary>
    /// <param name="data">The first bytes of the connection, from its very first byte.</param>
    /// <param name="maxSize">
    /// The most bytes the caller will buffer: a ClientHello larger than this, or one whose records need more bytes than
    /// this, gives <see cref="ClientHelloStatus.TooLarge"/>. So <see cref="ClientHelloStatus.NeedMoreData"/> is only
    /// returned while <paramref name="data"/> is shorter than <paramref name="maxSize"/>.
    /// </param>
    /// <param name="info">The facts of the ClientHello when the result is <see cref="ClientHelloStatus.Complete"/>; default otherwise.</param>
    /// <returns>Whether the ClientHello is complete, needs more data, or was refused and why.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxSize"/> is zero or negative.</exception>
    public static ClientHelloStatus TryParse(ReadOnlySpan<byte> data, int maxSize, out ClientHelloInfo info)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxSize);
        info = default;
        ClientHelloStatus framing = FindMessage(data, maxSize, out int messageLength, out int recordsLength);
        if (framing != ClientHelloStatus.Complete)
        {
            return framing;
        }

        if (recordsLength == RecordHeaderLength + messageLength)
        {
            // One record carries the whole message: read it in place.
            return ParseMessage(data.Slice(RecordHeaderLength, messageLength), recordsLength, out info);
        }

        byte[]? rented = null;
        Span<byte> buffer = messageLength <= StackCopyLimit
            ? stackalloc byte[StackCopyLimit]
            : (rented = ArrayPool<byte>.Shared.Rent(messageLength));
        try
        {
            Span<byte> message = buffer[..messageLength];
            Reassemble(data, message);
            return ParseMessage(message, recordsLength, out info);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// Walks the handshake records at the start of <paramref name="data"/> until they carry one whole handshake message,
    /// checking the record layer and the handshake header on the way.
    /// </summary>
    /// <param name="messageLength">The ClientHello's length, its 4-byte handshake header included.</param>
    /// <param name="recordsLength">The bytes of <paramref name="data"/> the records carrying it occupy.</param>
    private static ClientHelloStatus FindMessage(ReadOnlySpan<byte> data, int maxSize, out int messageLength, out int recordsLength)
    {
        messageLength = -1;
        recordsLength = 0;
        int position = 0;

        // Handshake bytes seen so far, over all records, and the first four of them (the handshake header), which may
        // themselves be split over records.
        int carried = 0;
        uint handshakeHeader = 0;
        while (true)
        {
            ReadOnlySpan<byte> record = data[position..];
            if (record.Length >= 1 && record[0] != HandshakeContentType)
            {
                // Anything but a handshake record first is another protocol; an alert or application data between the
                // fragments of a ClientHello is a broken TLS stream (RFC 8446 §5.1 forbids interleaving).
                return position == 0 ? ClientHelloStatus.NotTls : ClientHelloStatus.Malformed;
            }

            if (record.Length >= 2 && record[1] != RecordMajorVersion)
            {
                return ClientHelloStatus.Malformed;
            }

            if (position + RecordHeaderLength + 1 > maxSize)
            {
                // Even a one-byte record would end past the limit.
                return ClientHelloStatus.TooLarge;
            }

            if (record.Length < RecordHeaderLength)
            {
                return ClientHelloStatus.NeedMoreData;
            }

            int fragmentLength = BinaryPrimitives.ReadUInt16BigEndian(record[3..]);
            if (fragmentLength == 0 || fragmentLength > MaxRecordLength)
            {
                // RFC 8446 §5.1: handshake records must not be empty.
                return ClientHelloStatus.Malformed;
            }

            int recordEnd = position + RecordHeaderLength + fragmentLength;
            ReadOnlySpan<byte> fragment = record[RecordHeaderLength..Math.Min(record.Length, RecordHeaderLength + fragmentLength)];
            if (position == 0 && fragment.Length >= 1 && fragment[0] != ClientHelloType)
            {
                return ClientHelloStatus.Malformed;
            }

            for (int i = 0; i < fragment.Length && carried + i < HandshakeHeaderLength; i++)
            {
                handshakeHeader = (handshakeHeader << 8) | fragment[i];
            }

            carried += fragment.Length;
            if (messageLength < 0 && carried >= HandshakeHeaderLength)
            {
                messageLength = HandshakeHeaderLength + (int)(handshakeHeader & 0xFF_FFFF);
                if (messageLength > maxSize)
                {
                    return ClientHelloStatus.TooLarge;
                }
            }

            if (recordEnd > maxSize)
            {
                return ClientHelloStatus.TooLarge;
            }

            if (fragment.Length < fragmentLength)
            {
                return ClientHelloStatus.NeedMoreData;
            }

            position = recordEnd;
            if (messageLength >= 0 && carried >= messageLength)
            {
                if (carried > messageLength)
                {
                    // The client's first flight is the ClientHello alone: more handshake bytes behind it in the same
                    // record are not something a server would accept either.
                    return ClientHelloStatus.Malformed;
                }

                recordsLength = position;
                return ClientHelloStatus.Complete;
            }
        }
    }

    /// <summary>Copies the fragments of the records <see cref="FindMessage"/> walked into one contiguous message.</summary>
    private static void Reassemble(ReadOnlySpan<byte> data, Span<byte> message)
    {
        int position = 0;
        int filled = 0;
        while (filled < message.Length)
        {
            int fragmentLength = BinaryPrimitives.ReadUInt16BigEndian(data[(position + 3)..]);
            data.Slice(position + RecordHeaderLength, fragmentLength).CopyTo(message[filled..]);
            filled += fragmentLength;
            position += RecordHeaderLength + fragmentLength;
        }
    }

    /// <summary>Reads the ClientHello body (RFC 8446 §4.1.2) from a whole handshake message, header included.</summary>
    private static ClientHelloStatus ParseMessage(ReadOnlySpan<byte> message, int recordsLength, out ClientHelloInfo info)
    {
        info = default;
        var reader = new TlsReader(message[HandshakeHeaderLength..]);
        if (!reader.TryReadUInt16(out ushort legacyVersion)
            || !reader.TrySkip(RandomLength)
            || !reader.TryReadVector8(out ReadOnlySpan<byte> sessionId) || sessionId.Length > MaxSessionIdLength
            || !reader.TryReadVector16(out ReadOnlySpan<byte> cipherSuites) || cipherSuites.IsEmpty || cipherSuites.Length % 2 != 0
            || !reader.TryReadVector8(out ReadOnlySpan<byte> compressionMethods) || compressionMethods.IsEmpty)
        {
            return ClientHelloStatus.Malformed;
        }

        ReadOnlySpan<byte> hostName = default;
        bool hasServerName = false;
        bool hasSupportedVersions = false;
        bool offersTls13 = false;

        // A ClientHello without any extension (SSL 3.0 style) ends right after the compression methods.
        if (!reader.IsEmpty)
        {
            if (!reader.TryReadVector16(out ReadOnlySpan<byte> extensionBlock) || !reader.IsEmpty)
            {
                return ClientHelloStatus.Malformed;
            }

            var extensions = new TlsReader(extensionBlock);
            while (!extensions.IsEmpty)
            {
                if (!extensions.TryReadUInt16(out ushort type) || !extensions.TryReadVector16(out ReadOnlySpan<byte> body))
                {
                    return ClientHelloStatus.Malformed;
                }

                switch (type)
                {
                    case ServerNameExtension:
                        // RFC 8446 §4.2: no extension type twice; for this one a second copy could route elsewhere.
                        if (hasServerName || !TryReadHostName(body, out hostName))
                        {
                            return ClientHelloStatus.Malformed;
                        }

                        hasServerName = true;
                        break;

                    case SupportedVersionsExtension:
                        if (hasSupportedVersions || !TryReadSupportedVersions(body, out offersTls13))
                        {
                            return ClientHelloStatus.Malformed;
                        }

                        hasSupportedVersions = true;
                        break;
                }
            }
        }

        // A valid host name is never empty: empty means no server_name extension, or one without a host_name entry.
        info = new ClientHelloInfo(hostName.IsEmpty ? null : LowercaseString(hostName), legacyVersion, offersTls13, recordsLength);
        return ClientHelloStatus.Complete;
    }

    /// <summary>
    /// Reads the server_name extension body (RFC 6066 §3): a list of (name_type, name) with at most one host_name, which is
    /// returned checked and without its trailing dot (empty when the list holds other name types only).
    /// </summary>
    private static bool TryReadHostName(ReadOnlySpan<byte> body, out ReadOnlySpan<byte> hostName)
    {
        hostName = default;
        var reader = new TlsReader(body);
        if (!reader.TryReadVector16(out ReadOnlySpan<byte> list) || !reader.IsEmpty || list.IsEmpty)
        {
            return false;
        }

        bool found = false;
        var names = new TlsReader(list);
        while (!names.IsEmpty)
        {
            // Every name type defined or imagined so far has a 16-bit length; other types than host_name are skipped.
            if (!names.TryReadUInt8(out byte nameType) || !names.TryReadVector16(out ReadOnlySpan<byte> name))
            {
                return false;
            }

            if (nameType == HostNameType)
            {
                if (found || !IsValidHostName(name))
                {
                    return false;
                }

                found = true;
                hostName = name[^1] == (byte)'.' ? name[..^1] : name;
            }
        }

        // A list of only unknown name types gives no host name, like a missing extension would.
        return true;
    }

    /// <summary>
    /// True for a DNS host name: 1 to 255 bytes of letters, digits, '-', '_' and '.', no empty label, and at most one
    /// trailing dot (which RFC 6066 forbids but some clients send).
    /// </summary>
    private static bool IsValidHostName(ReadOnlySpan<byte> name)
    {
        if (name.Length > MaxHostNameLength)
        {
            return false;
        }

        if (!name.IsEmpty && name[^1] == (byte)'.')
        {
            name = name[..^1];
        }

        if (name.IsEmpty)
        {
            return false;
        }

        bool labelStart = true;
        foreach (byte b in name)
        {
            if (b == (byte)'.')
            {
                if (labelStart)
                {
                    return false;
                }

                labelStart = true;
            }
            else if (IsHostNameByte(b))
            {
                labelStart = false;
            }
            else
            {
                return false;
            }
        }

        return !labelStart;
    }

    /// <summary>True for an ASCII letter, digit, '-' or '_'.</summary>
    private static bool IsHostNameByte(byte b) =>
        (uint)((b | 0x20) - 'a') <= 'z' - 'a' || (uint)(b - '0') <= 9 || b == (byte)'-' || b == (byte)'_';

    /// <summary>Reads the ClientHello form of supported_versions (RFC 8446 §4.2.1): a list of 2-byte versions.</summary>
    private static bool TryReadSupportedVersions(ReadOnlySpan<byte> body, out bool offersTls13)
    {
        offersTls13 = false;
        var reader = new TlsReader(body);
        if (!reader.TryReadVector8(out ReadOnlySpan<byte> versions) || !reader.IsEmpty || versions.IsEmpty || versions.Length % 2 != 0)
        {
            return false;
        }

        for (int i = 0; i < versions.Length; i += 2)
        {
            if (BinaryPrimitives.ReadUInt16BigEndian(versions[i..]) == Tls13Version)
            {
                offersTls13 = true;
            }
        }

        return true;
    }

    /// <summary>The host name as a string: the one allocation of a parse, made only once the whole ClientHello is valid.</summary>
    private static string LowercaseString(ReadOnlySpan<byte> asciiName) =>
        string.Create(asciiName.Length, asciiName, static (chars, name) => Ascii.ToLower(name, chars, out _));

    /// <summary>Reads big-endian integers and length-prefixed vectors from a span, failing instead of running past its end.</summary>
    private ref struct TlsReader(ReadOnlySpan<byte> data)
    {
        private ReadOnlySpan<byte> _rest = data;

        /// <summary>True when every byte was read.</summary>
        public readonly bool IsEmpty => _rest.IsEmpty;

        /// <summary>Reads one byte.</summary>
        public bool TryReadUInt8(out byte value)
        {
            if (_rest.IsEmpty)
            {
                value = 0;
                return false;
            }

            value = _rest[0];
            _rest = _rest[1..];
            return true;
        }

        /// <summary>Reads a big-endian 16-bit integer.</summary>
        public bool TryReadUInt16(out ushort value)
        {
            if (!BinaryPrimitives.TryReadUInt16BigEndian(_rest, out value))
            {
                return false;
            }

            _rest = _rest[2..];
            return true;
        }

        /// <summary>Skips <paramref name="count"/> bytes.</summary>
        public bool TrySkip(int count) => TryReadBytes(count, out _);

        /// <summary>Reads a vector with a one-byte length prefix.</summary>
        public bool TryReadVector8(out ReadOnlySpan<byte> vector)
        {
            vector = default;
            return TryReadUInt8(out byte length) && TryReadBytes(length, out vector);
        }

        /// <summary>Reads a vector with a two-byte length prefix.</summary>
        public bool TryReadVector16(out ReadOnlySpan<byte> vector)
        {
            vector = default;
            return TryReadUInt16(out ushort length) && TryReadBytes(length, out vector);
        }

        /// <summary>Reads the next <paramref name="count"/> bytes as a slice of the input.</summary>
        private bool TryReadBytes(int count, out ReadOnlySpan<byte> bytes)
        {
            if (_rest.Length < count)
            {
                bytes = default;
                return false;
            }

            bytes = _rest[..count];
            _rest = _rest[count..];
            return true;
        }
    }
}
