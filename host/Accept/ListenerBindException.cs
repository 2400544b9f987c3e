using System.Net.Sockets;

namespace PluginProxy.Host.Accept;

/// <summary>A listener could not bind or configure its listening socket; the message names the place in proxy.toml.</summary>
internal sealed class ListenerBindException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>Why binding failed, in the words of someone who has to fix it.</summary>
    public static string Describe(SocketException ex) => ex.SocketErrorCode switch
    {
        SocketError.AddressAlreadyInUse => "the address is already in use (another process listens there)",
        SocketError.AddressNotAvailable => "the address is not assigned to any local interface",
        SocketError.AccessDenied => "permission denied (ports below 1024 need CAP_NET_BIND_SERVICE)",
        _ => ex.Message,
    };
}
