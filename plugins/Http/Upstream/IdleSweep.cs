using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace PluginProxy.Http.Upstream;

/// <summary>
/// Finds, among idle pooled connections, those the server closed (or spoke on unasked), with one <c>poll(2)</c> for all
/// of them on Linux. Run on every beat of the host's heartbeat while anything is idle, so a connection the
/// server closed leaves the pool within a beat, while a request on a pooled connection costs nothing extra: no read is
/// kept pending on an idle connection (a pending read would queue the stream's own reads behind it, measured at a
/// third of the request rate).
/// </summary>
internal sealed class IdleSweep
{
    private const short PollIn = 0x1;
    private const short PollErr = 0x8;
    private const short PollHup = 0x10;
    private const short PollRdHup = 0x2000;

    // Cleared for good if this platform's C library cannot be called: the per-connection check is used instead.
    private static bool s_poll = OperatingSystem.IsLinux();

    private PollFd[] _fds = new PollFd[64];
    private PooledConnection[] _connections = new PooledConnection[64];
    private int[] _uses = new int[64];
    private int _count;

    /// <summary>Starts a new sweep; called by one thread at a time (the heartbeat's).</summary>
    public void Clear()
    {
        Array.Clear(_connections, 0, _count);
        _count = 0;
    }

    /// <summary>Adds an idle connection, under its list's lock (so its socket is open while it is read).</summary>
    public void Add(PooledConnection connection)
    {
        if (_count == _fds.Length)
        {
            Array.Resize(ref _fds, _count * 2);
            Array.Resize(ref _connections, _count * 2);
            Array.Resize(ref _uses, _count * 2);
        }

        _fds[_count] = new PollFd { Fd = connection.Fd, Events = PollIn | PollRdHup };
        _connections[_count] = connection;
        _uses[_count] = connection.Uses;
        _count++;
    }

    /// <summary>Polls every connection added; calls <paramref name="closed"/> with those that look closed (outside any lock).</summary>
    public void Run(Action<PooledConnection, int> closed)
    {
        if (_count == 0)
        {
            return;
        }

        if (!s_poll || !TryPoll())
        {
            for (int i = 0; i < _count; i++)
            {
                if (!_connections[i].LooksUsable())
                {
                    closed(_connections[i], _uses[i]);
                }
            }

            return;
        }

        for (int i = 0; i < _count; i++)
        {
            short events = _fds[i].Revents;
            if ((events & (PollErr | PollHup | PollRdHup)) != 0 || ((events & PollIn) != 0 && !UnreadTls(_connections[i])))
            {
                closed(_connections[i], _uses[i]);
            }
        }
    }

    /// <summary>One poll(2) over every descriptor added; false when the C library cannot be called here.</summary>
    private bool TryPoll()
    {
        try
        {
            _ = poll(_fds, (nuint)_count, 0);
            return true;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            s_poll = false;
            return false;
        }
    }

    /// <summary>Over TLS, readable with bytes waiting may be session tickets on a sound connection; only an end of stream counts.</summary>
    private static bool UnreadTls(PooledConnection connection)
    {
        try
        {
            return connection.Connection.Transport is { Tls: not null, HasSocket: true } && connection.Connection.Socket.Available > 0;
        }
        catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
        {
            return false;
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int poll([In, Out] PollFd[] fds, nuint count, int timeout);
}
