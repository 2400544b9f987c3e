using System.Net;
using System.Net.Sockets;
using PluginProxy.Host.Accept;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Admin;

/// <summary>The admin endpoint's listening sockets could not be made; the message says which, and why.</summary>
internal sealed class AdminBindException(string message) : Exception(message);

/// <summary>
/// Makes the admin endpoint's listening sockets: the TCP address of <c>admin</c>, and the Unix socket of
/// <c>admin_socket</c>, which is created readable and writable by the proxy's user only (as HAProxy's
/// <c>stats socket ... mode 600 level admin</c>): whoever can connect to it may act without a token.
/// </summary>
internal static class AdminSockets
{
    /// <summary>The Unix socket's permissions: the proxy's user only (root can connect to any socket anyway).</summary>
    public const UnixFileMode SocketMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <param name="where">Where <c>admin</c> is written (<c>proxy.toml:line:column</c>), for the error.</param>
    public static Socket BindTcp(IPEndPoint address, string where)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(address);
            socket.Listen(64);
            return socket;
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new AdminBindException($"{where}: the admin endpoint cannot bind {EndPoints.Format(address)}: {ListenerBindException.Describe(ex)}");
        }
    }

    /// <summary>
    /// Binds <paramref name="path"/>: the socket is bound under a temporary name, given its mode and listening before it
    /// is renamed onto the path (so no client ever finds it open to others, and a stale socket a stopped proxy left
    /// behind is replaced in one step). A live socket, a directory or a file with content at the path is refused.
    /// </summary>
    public static Socket BindUnix(string path, string configFile)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new AdminBindException($"{configFile}: `admin_socket` needs Unix file permissions; use `admin` with `admin_token_file`");
        }

        if (Directory.Exists(path) || (File.Exists(path) && new FileInfo(path).Length > 0))
        {
            throw new AdminBindException($"{configFile}: `admin_socket` {path} exists and is not a socket; remove it or choose another path");
        }

        if (File.Exists(path) && Answers(path))
        {
            throw new AdminBindException($"{configFile}: `admin_socket` {path} is in use by another process (is a proxy already running?)");
        }

        string temporary = $"{path}.{Environment.ProcessId}.tmp";
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            File.Delete(temporary);
            socket.Bind(new UnixDomainSocketEndPoint(temporary));
            File.SetUnixFileMode(temporary, SocketMode);
            socket.Listen(64);
            File.Move(temporary, path, overwrite: true);
            return socket;
        }
        catch (Exception ex) when (ex is SocketException or IOException or UnauthorizedAccessException)
        {
            socket.Dispose();
            File.Delete(temporary);
            throw new AdminBindException($"{configFile}: the admin socket {path} cannot be created: {(ex is SocketException s ? s.SocketErrorCode.ToString() : ex.Message)}");
        }
    }

    /// <summary>Removes the socket file when the admin endpoint closes (a restart would replace it anyway).</summary>
    /// <summary>A duplicate of the socket's descriptor, for a server that takes ownership of what it is given.</summary>
    public static ulong Duplicate(Socket socket)
    {
        int copy = dup((int)socket.Handle);
        if (copy < 0)
        {
            throw new SocketException(System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
        }

        return (ulong)copy;
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int dup(int fd);

        public static void Remove(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left behind: the next start replaces a stale socket.
        }
    }

    /// <summary>True when a process accepts connections on the socket at <paramref name="path"/>.</summary>
    private static bool Answers(string path)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false; // Refused: nobody listens there any more.
        }
    }
}
