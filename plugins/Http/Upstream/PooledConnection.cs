using System.Net.Sockets;
using PluginProxy.Abstractions;

namespace PluginProxy.Http.Upstream;

/// <summary>
/// A server connection as the pool knows it, for the connection's whole life: made when it is first pooled, handed out
/// and taken back with it. The fields that say where it is are guarded by its server's <see cref="IdleConnections.Gate"/>.
/// </summary>
internal sealed class PooledConnection(ServerConnection connection)
{
    public ServerConnection Connection { get; } = connection;

    /// <summary>
    /// The socket's descriptor, read once (the idle sweep polls thousands of idle connections per beat without going
    /// through four objects for each), or -1 for a connection in memory (a test kit's server), which poll skips. A
    /// pooled connection is closed only once out of the idle list, so the descriptor is its own while it is polled.
    /// </summary>
    internal int Fd { get; } = DescriptorOf(connection);

    /// <summary>When it last went idle (<see cref="Environment.TickCount64"/>).</summary>
    internal long Since { get; private set; }

    /// <summary>Links of the owner's list, newest first; <see cref="InList"/> while idle in it.</summary>
    internal PooledConnection? Newer { get; set; }

    internal PooledConnection? Older { get; set; }

    internal bool InList { get; set; }

    /// <summary>How often it was taken: a sweep that looked at it while idle acts only if it was not taken since.</summary>
    internal int Uses { get; private set; }

    private static int DescriptorOf(ServerConnection connection)
    {
        try
        {
            return connection.Transport.HasSocket ? (int)connection.Socket.SafeHandle.DangerousGetHandle() : -1;
        }
        catch (ObjectDisposedException)
        {
            // Closed already: the poll reports the invalid descriptor and the connection is dropped.
            return -1;
        }
    }

    internal void OnTaken()
    {
        Uses++;
        InList = false;
        Connection.SetIdle(false);
    }

    internal void OnIdle(long now)
    {
        Since = now;
        InList = true;
        Connection.SetIdle(true);
    }

    /// <summary>True when the connection still looks usable: not closed by the server (checked with one poll).</summary>
    internal bool LooksUsable()
    {
        try
        {
            // Readable means closed (or the server spoke unasked), except over TLS, where unread records (session
            // tickets) may wait on a sound connection: there only an end of stream counts.
            if (!Connection.Transport.HasSocket)
            {
                return true; // In memory (a test kit's server): a closed one shows at the next read, which is replayed.
            }

            Socket socket = Connection.Socket;
            return !socket.Poll(0, SelectMode.SelectRead) || (Connection.Transport.Tls is not null && socket.Available > 0);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Closes the connection.</summary>
    public void Close() => Connection.Dispose();
}
