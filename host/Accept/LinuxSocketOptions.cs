using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace PluginProxy.Host.Accept;

/// <summary>Linux socket options that .NET has no named constant for, set and read through the raw option API.</summary>
internal static class LinuxSocketOptions
{
    private const int SolSocket = 1;
    private const int SolIp = 0;
    private const int SolIpv6 = 41;
    private const int IpProtoTcp = 6;
    private const int SoReusePort = 15;
    private const int TcpDeferAccept = 9;
    private const int IpTransparent = 19;
    private const int Ipv6Transparent = 75;
    private const int SoOriginalDst = 80;

    public static void SetReusePort(Socket socket) => SetInt(socket, SolSocket, SoReusePort, 1);

    public static bool GetReusePort(Socket socket) => GetInt(socket, SolSocket, SoReusePort) != 0;

    public static void SetDeferAccept(Socket socket, int seconds) => SetInt(socket, IpProtoTcp, TcpDeferAccept, seconds);

    public static int GetDeferAccept(Socket socket) => GetInt(socket, IpProtoTcp, TcpDeferAccept);

    public static void SetTransparent(Socket socket)
    {
        if (socket.AddressFamily == AddressFamily.InterNetworkV6)
        {
            SetInt(socket, SolIpv6, Ipv6Transparent, 1);
        }
        else
        {
            SetInt(socket, SolIp, IpTransparent, 1);
        }
    }

    /// <summary>
    /// The destination of the connection before a NAT redirect (iptables REDIRECT/DNAT), or null when the connection
    /// was not redirected or the kernel keeps no record of it.
    /// </summary>
    public static IPEndPoint? GetOriginalDestination(Socket socket)
    {
        bool v6 = socket.AddressFamily == AddressFamily.InterNetworkV6;
        Span<byte> address = stackalloc byte[28];
        try
        {
            int length = socket.GetRawSocketOption(v6 ? SolIpv6 : SolIp, SoOriginalDst, v6 ? address : address[..16]);
            if (length < (v6 ? 24 : 8))
            {
                return null;
            }
        }
        catch (SocketException)
        {
            // ENOENT (not redirected, or no connection tracking) and ENOPROTOOPT both mean: no original destination known.
            return null;
        }

        // struct sockaddr_in / sockaddr_in6: family (2, host order), port (2, network order), then the address.
        int port = BinaryPrimitives.ReadUInt16BigEndian(address[2..]);
        IPAddress ip = v6 ? new IPAddress(address.Slice(8, 16)) : new IPAddress(address.Slice(4, 4));
        if (ip.IsIPv4MappedToIPv6)
        {
            ip = ip.MapToIPv4();
        }

        return new IPEndPoint(ip, port);
    }

    private static void SetInt(Socket socket, int level, int name, int value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
        socket.SetRawSocketOption(level, name, bytes);
    }

    private static int GetInt(Socket socket, int level, int name)
    {
        Span<byte> bytes = stackalloc byte[4];
        socket.GetRawSocketOption(level, name, bytes);
        return BinaryPrimitives.ReadInt32LittleEndian(bytes);
    }
}
