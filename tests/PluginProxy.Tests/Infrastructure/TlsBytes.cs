using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace PluginProxy.Tests.Infrastructure;

/// <summary>Hand-made TLS records, for clients that real TLS libraries refuse to be (old versions, broken or huge hellos).</summary>
internal static class TlsBytes
{
    /// <summary>A ClientHello in one handshake record, offering RSA/ECDHE AES-CBC suites.</summary>
    /// <param name="legacyVersion">The client_version field (0x0302: TLS 1.1).</param>
    /// <param name="serverName">The server_name extension's host name, or null for none.</param>
    /// <param name="offerTls13">Add a supported_versions extension listing TLS 1.3 and 1.2.</param>
    /// <param name="padding">Bytes of a padding extension (21), to make the hello as large as wanted.</param>
    public static byte[] ClientHello(ushort legacyVersion = 0x0303, string? serverName = null, bool offerTls13 = false, int padding = 0)
    {
        var extensions = new List<byte>();
        if (serverName is not null)
        {
            byte[] name = Encoding.ASCII.GetBytes(serverName);
            var list = new List<byte> { 0 };
            list.AddRange(U16(name.Length));
            list.AddRange(name);
            extensions.AddRange(Extension(0, [.. U16(list.Count), .. list]));
        }

        if (offerTls13)
        {
            extensions.AddRange(Extension(43, [4, 0x03, 0x04, 0x03, 0x03]));
        }

        if (padding > 0)
        {
            extensions.AddRange(Extension(21, new byte[padding]));
        }

        var body = new List<byte>();
        body.AddRange(U16(legacyVersion));
        body.AddRange(RandomNumberGenerator.GetBytes(32));
        body.Add(0);
        byte[] suites = [0xc0, 0x13, 0xc0, 0x14, 0x00, 0x2f, 0x00, 0x35];
        body.AddRange(U16(suites.Length));
        body.AddRange(suites);
        body.AddRange([1, 0]);
        body.AddRange(U16(extensions.Count));
        body.AddRange(extensions);

        var handshake = new List<byte> { 1, (byte)(body.Count >> 16), (byte)(body.Count >> 8), (byte)body.Count };
        handshake.AddRange(body);
        return Records(handshake.ToArray(), maxRecord: 16384);
    }

    /// <summary>Wraps handshake bytes in handshake records (type 22) of at most <paramref name="maxRecord"/> bytes each.</summary>
    public static byte[] Records(byte[] handshake, int maxRecord)
    {
        var records = new List<byte>();
        for (int offset = 0; offset < handshake.Length; offset += maxRecord)
        {
            int length = Math.Min(maxRecord, handshake.Length - offset);
            records.AddRange([0x16, 0x03, 0x01]);
            records.AddRange(U16(length));
            records.AddRange(handshake.AsSpan(offset, length).ToArray());
        }

        return records.ToArray();
    }

    private static byte[] Extension(int type, byte[] data) => [.. U16(type), .. U16(data.Length), .. data];

    private static byte[] U16(int value)
    {
        var bytes = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, (ushort)value);
        return bytes;
    }
}
