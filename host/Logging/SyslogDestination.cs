using System.Net;
using System.Net.Sockets;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Logging;

/// <summary>
/// Syslog over UDP or a Unix datagram socket (<c>/dev/log</c>): each line of a batch (its RFC 5424 header already
/// written in front of it) is sent as one datagram, without its line ending. The socket is not connected, so a syslog
/// daemon that restarts (and makes its socket anew) is reached again with the next line.
/// </summary>
internal sealed class SyslogDestination : LogDestination
{
    private readonly Socket _socket;
    private readonly SocketAddress _address;
    private readonly string _name;

    private SyslogDestination(Socket socket, SocketAddress address, string name)
    {
        _socket = socket;
        _address = address;
        _name = name;
    }

    public override string Name => _name;

    public static SyslogDestination Create(AccessLogTarget target)
    {
        Socket socket;
        EndPoint endPoint;
        if (target.Kind == AccessLogTargetKind.SyslogUnix)
        {
            socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            endPoint = new UnixDomainSocketEndPoint(target.Path!);
        }
        else
        {
            endPoint = target.EndPoint!;
            socket = new Socket(endPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        }

        // A syslog daemon that stops reading must not hold the writer thread for long: its lines are lost instead.
        socket.SendTimeout = 1000;
        return new SyslogDestination(socket, endPoint.Serialize(), target.ToString());
    }

    /// <summary>Sends each line; at the first that cannot be sent the rest of the batch is dropped and the error thrown.</summary>
    public override void Write(ReadOnlySpan<byte> batch)
    {
        while (!batch.IsEmpty)
        {
            int end = batch.IndexOf((byte)'\n');
            ReadOnlySpan<byte> message = end < 0 ? batch : batch[..end];
            batch = end < 0 ? default : batch[(end + 1)..];
            _socket.SendTo(message, SocketFlags.None, _address);
        }
    }

    public override void Dispose() => _socket.Dispose();
}
