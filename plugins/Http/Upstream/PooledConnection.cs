using System.Net.Sockets;
using PluginProxy.Abstractions;

namespace PluginProxy.Http.Upstream;

/// <summary>
/// A server connection as the pool knows it, for the connection's whole life: made when it is first pooled, handed out
/// and taken back with it. While it waits in the pool it is watched: a zero-byte receive is pending on its socket, so
/// a server that closes it (or sends something nobody asked for) takes it out of the pool at once, instead of leaving
/// it for the next stream to find dead. The watch costs no buffer and no allocation per use.
/// </summary>
internal sealed class PooledConnection
{
    private readonly IdleConnections _owner;
    private SocketAsyncEventArgs? _watch;

    // The fields below are guarded by the owner's lock.
    private bool _watching;
    private int _uses;
    private int _watchedUse;

    public PooledConnection(ServerConnection connection, IdleConnections owner)
    {
        Connection = connection;
        _owner = owner;
    }

    public ServerConnection Connection { get; }

    /// <summary>When it last went idle (<see cref="Environment.TickCount64"/>).</summary>
    internal long Since { get; set; }

    /// <summary>Links of the owner's list, newest first; <see cref="InList"/> while idle in it.</summary>
    internal PooledConnection? Newer { get; set; }

    internal PooledConnection? Older { get; set; }

    internal bool InList { get; set; }

    /// <summary>
    /// Over TLS, bytes may wait unread on an idle connection that is still fine (session tickets sent after the
    /// handshake): a watch would complete at once, so such a connection is checked when it is taken instead.
    /// </summary>
    internal bool Unwatched { get; private set; }

    /// <summary>Called under the owner's lock when a stream takes the connection.</summary>
    internal void OnTaken()
    {
        _uses++;
        InList = false;
        Connection.SetIdle(false);
    }

    /// <summary>Called under the owner's lock when the connection goes idle; true when a watch must be started.</summary>
    internal bool OnIdle(long now)
    {
        Since = now;
        InList = true;
        Unwatched = false;
        Connection.SetIdle(true);
        if (_watching)
        {
            // The watch of an earlier idle period has not reported yet; it will find the connection idle again and renew.
            return false;
        }

        _watching = true;
        _watchedUse = _uses;
        return true;
    }

    /// <summary>Starts the zero-byte receive that reports a close while idle. Called outside the owner's lock.</summary>
    internal void StartWatch()
    {
        while (true)
        {
            bool pending;
            try
            {
                _watch ??= CreateWatch();
                pending = Connection.Socket.ReceiveAsync(_watch);
            }
            catch (Exception ex) when (ex is ObjectDisposedException or SocketException or InvalidOperationException)
            {
                // Closed meanwhile (by the pool, or a stream that took it and failed): nothing left to watch.
                pending = false;
            }

            if (pending || !OnWatchCompleted())
            {
                return;
            }
        }
    }

    private SocketAsyncEventArgs CreateWatch()
    {
        var watch = new SocketAsyncEventArgs { UserToken = this };
        watch.SetBuffer(Memory<byte>.Empty);
        watch.Completed += static (_, args) =>
        {
            var pooled = (PooledConnection)args.UserToken!;
            if (pooled.OnWatchCompleted())
            {
                pooled.StartWatch();
            }
        };
        return watch;
    }

    /// <summary>
    /// The watch completed: data or an end of stream arrived. If the connection is still idle since the watch started,
    /// the server closed it (or spoke unasked): it leaves the pool and closes. True when the watch must start again (it
    /// reported on an earlier use: the connection went idle again since).
    /// </summary>
    private bool OnWatchCompleted()
    {
        bool close = false;
        lock (_owner.Gate)
        {
            _watching = false;
            if (!InList)
            {
                // In use by a stream (the watch saw its response arrive), or already out of the pool.
                return false;
            }

            if (_watchedUse != _uses)
            {
                _watching = true;
                _watchedUse = _uses;
                return true;
            }

            if (Connection.Transport.Tls is not null && _watch!.SocketError == SocketError.Success && Available() > 0)
            {
                Unwatched = true;
            }
            else
            {
                _owner.Unlink(this);
                close = true;
            }
        }

        if (close)
        {
            Close();
        }

        return false;
    }

    private int Available()
    {
        try
        {
            return Connection.Socket.Available;
        }
        catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
        {
            return 0;
        }
    }

    /// <summary>For a connection that is not watched: true when it still looks usable (not closed by the server).</summary>
    internal bool LooksUsable()
    {
        try
        {
            // Readable means closed, except over TLS where unread records may wait: only an end of stream counts there.
            Socket socket = Connection.Socket;
            return !socket.Poll(0, SelectMode.SelectRead) || (Connection.Transport.Tls is not null && socket.Available > 0);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Closes the connection; a pending watch ends with it.</summary>
    public void Close()
    {
        Connection.Dispose();
        _watch?.Dispose();
    }
}
