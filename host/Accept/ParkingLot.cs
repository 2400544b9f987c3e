using System.Reflection;
using System.Runtime.InteropServices;
using System.Net.Sockets;
using PluginProxy.Abstractions;

namespace PluginProxy.Host.Accept;

/// <summary>
/// Idle client connections kept outside the runtime's sockets, as HAProxy and nginx keep theirs: a descriptor in an
/// epoll set of our own and a <see cref="ParkedConnection"/>, instead of a socket object with its pending read, its
/// event args and the session and supervisor state above it (≈ 4 KB). One thread waits on the set; when a parked
/// client sends, its listener resumes it as a new session; when its deadline passes it is closed.
/// </summary>
/// <remarks>
/// Detaching a socket from the runtime: the descriptor is duplicated, the original is removed from the runtime's epoll
/// set (the runtime relies on close() for that, which would not happen while the duplicate is open) and the socket is
/// disposed. Disposing a socket with a read pending makes the runtime set a zero linger (an abortive close, RST); the
/// option belongs to the connection, not the descriptor, so it is put back on the duplicate. The runtime's epoll
/// descriptors are private: they are read once by reflection, and without them (another runtime) nothing is parked.
/// </remarks>
internal sealed class ParkingLot : IDisposable
{
    private const int EpollCloexec = 0x80000;
    private const int EpollCtlAdd = 1;
    private const int EpollCtlDel = 2;
    private const uint EpollIn = 0x001;
    private const uint EpollErr = 0x008;
    private const uint EpollHup = 0x010;
    private const uint EpollRdHup = 0x2000;
    private const uint EpollOneShot = 1u << 30;
    private const int FDupFdCloexec = 1030;
    private const int SolSocket = 1;
    private const int SoLinger = 13;
    private const int Batch = 256;
    private const int SweepMilliseconds = 100;

    // struct epoll_event is packed on x86-64 (12 bytes), naturally aligned elsewhere (16 bytes).
    private static readonly int Stride = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;
    private static readonly int DataOffset = Stride == 12 ? 4 : 8;

    private readonly int _epoll;
    private readonly int[] _runtimePorts;
    private readonly Lock _lock = new();
    private ParkedConnection?[] _byFd = new ParkedConnection?[1024];
    private int _count;
    private Thread? _thread;
    private volatile bool _disposed;
    private const int TrimQuietMilliseconds = 1000;
    private int _trimmedAt;
    private long _lastAdd;
    private long _lastTrim = long.MinValue / 2;

    /// <summary>How many more parked connections make a burst worth a trim (<see cref="TrimAfterBurst"/>); tests lower it.</summary>
    public int TrimBurst { get; set; } = 1000;

    /// <summary>Where the heap trims after a burst of parking are logged; null turns them off.</summary>
    public Microsoft.Extensions.Logging.ILogger? TrimLog { get => _log; set => _log = value; }

    private Microsoft.Extensions.Logging.ILogger? _log;

    private ParkingLot(int epoll, int[] runtimePorts)
    {
        _epoll = epoll;
        _runtimePorts = runtimePorts;
    }

    /// <summary>The parking lot, or null with the reason when this platform or runtime cannot park connections.</summary>
    public static ParkingLot? Create(out string? whyNot)
    {
        whyNot = null;
        if (!OperatingSystem.IsLinux())
        {
            whyNot = "parking idle connections needs Linux (epoll)";
            return null;
        }

        if (RuntimeEventPorts() is not { Length: > 0 } ports)
        {
            whyNot = "this .NET runtime's socket engine is not the one parking was made for (System.Net.Sockets.SocketAsyncEngine._port not found)";
            return null;
        }

        int epoll = Native.epoll_create1(EpollCloexec);
        if (epoll < 0)
        {
            whyNot = $"epoll_create1 failed (errno {Marshal.GetLastPInvokeError()})";
            return null;
        }

        return new ParkingLot(epoll, ports);
    }

    /// <summary>Connections parked now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>
    /// First half of taking <paramref name="socket"/>'s connection out of the runtime: returns a descriptor of it that
    /// the caller owns, with the connection's linger option, and removes the socket from the runtime's epoll set; or -1
    /// with the socket as it was. <see cref="Release"/> completes it.
    /// </summary>
    public int Detach(Socket socket, out byte[] linger)
    {
        int copy = Duplicate(socket, out linger);
        if (copy >= 0)
        {
            LeaveRuntime(socket);
        }

        return copy;
    }

    /// <summary>
    /// <see cref="Detach"/> in two steps, for connections that park together: a descriptor of the connection and its
    /// linger option (or -1), the socket left as it was, so that a second connection failing to duplicate changes nothing.
    /// </summary>
    public static int Duplicate(Socket socket, out byte[] linger)
    {
        byte[] value = new byte[8];
        linger = value;
        return OnDescriptor(socket, fd =>
        {
            int length = value.Length;
            return Native.getsockopt(fd, SolSocket, SoLinger, value, ref length) != 0 ? -1 : Native.fcntl(fd, FDupFdCloexec, 0);
        });
    }

    /// <summary>The second step: removes <paramref name="socket"/> from the runtime's epoll set (its pending operations then wait for nothing).</summary>
    public void LeaveRuntime(Socket socket) => OnDescriptor(socket, fd =>
    {
        foreach (int port in _runtimePorts)
        {
            // ENOENT from every engine but the socket's (and from all of them if it never waited): nothing to remove.
            Native.epoll_ctl(port, EpollCtlDel, fd, null);
        }

        return 0;
    });

    /// <summary>Runs <paramref name="use"/> on the socket's descriptor while it cannot be closed; -1 when it already was.</summary>
    private static int OnDescriptor(Socket socket, Func<int, int> use)
    {
        SafeSocketHandle handle = socket.SafeHandle;
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            return use((int)handle.DangerousGetHandle());
        }
        catch (ObjectDisposedException)
        {
            return -1;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Second half: disposes <paramref name="socket"/> (its pending operations end; the connection stays open through
    /// <paramref name="copy"/>) and gives the connection back the linger option the runtime's abort replaced.
    /// </summary>
    public static void Release(Socket socket, int copy, byte[] linger)
    {
        socket.Dispose();
        Native.setsockopt(copy, SolSocket, SoLinger, linger, linger.Length);
    }

    /// <summary>
    /// Parks <paramref name="parked"/> until its client sends or its deadline passes; false (and the descriptor closed)
    /// when its listener has stopped or the descriptor cannot be watched.
    /// </summary>
    public bool Add(ParkedConnection parked)
    {
        lock (_lock)
        {
            if (!_disposed && !parked.Listener.StoppedAccepting)
            {
                byte[] ev = new byte[Stride];
                BitConverter.TryWriteBytes(ev.AsSpan(0, 4), EpollIn | EpollRdHup | EpollOneShot);
                if (Watch(parked.Fd, ev) && (parked.ServerFd < 0 || Watch(parked.ServerFd, ev) || Unwatch(parked.Fd)))
                {
                    int highest = Math.Max(parked.Fd, parked.ServerFd);
                    if (highest >= _byFd.Length)
                    {
                        Array.Resize(ref _byFd, Math.Max(highest + 1, _byFd.Length * 2));
                    }

                    _byFd[parked.Fd] = parked;
                    if (parked.ServerFd >= 0)
                    {
                        _byFd[parked.ServerFd] = parked;
                    }

                    Volatile.Write(ref _lastAdd, Environment.TickCount64);
                    _count++;
                    if (_thread is null)
                    {
                        _thread = new Thread(Run) { IsBackground = true, Name = "PluginProxy parking" };
                        _thread.Start();
                    }

                    return true;
                }
            }
        }

        CloseDescriptors(parked);
        return false;
    }

    private bool Watch(int fd, byte[] ev)
    {
        BitConverter.TryWriteBytes(ev.AsSpan(DataOffset, 8), (long)fd);
        return Native.epoll_ctl(_epoll, EpollCtlAdd, fd, ev) == 0;
    }

    /// <summary>Stops watching <paramref name="fd"/>; false, so that it reads as the failure it undoes.</summary>
    private bool Unwatch(int fd)
    {
        Native.epoll_ctl(_epoll, EpollCtlDel, fd, null);
        return false;
    }

    private static void CloseDescriptors(ParkedConnection parked)
    {
        Native.close(parked.Fd);
        if (parked.ServerFd >= 0)
        {
            Native.close(parked.ServerFd);
        }
    }

    /// <summary>Closes a descriptor that <see cref="Detach"/> returned, when it cannot be used.</summary>
    public static void CloseDescriptor(int fd) => Native.close(fd);

    /// <summary>Closes every connection parked for <paramref name="listener"/> (it stopped).</summary>
    public void CloseAll(Listener listener)
    {
        List<ParkedConnection> closing = [];
        lock (_lock)
        {
            for (int fd = 0; fd < _byFd.Length; fd++)
            {
                if (_byFd[fd] is { } parked && parked.Listener == listener)
                {
                    closing.Add(Take(fd)!); // takes the server descriptor's slot too
                }
            }
        }

        foreach (ParkedConnection parked in closing)
        {
            Close(parked, SessionTermination.Shutdown);
        }
    }

    private void Run()
    {
        byte[] events = new byte[Stride * Batch];
        long nextSweep = Environment.TickCount64 + SweepMilliseconds;
        while (!_disposed)
        {
            int n = Native.epoll_wait(_epoll, events, Batch, SweepMilliseconds);
            for (int i = 0; i < n; i++)
            {
                uint flags = BitConverter.ToUInt32(events, i * Stride);
                int fd = (int)BitConverter.ToInt64(events, i * Stride + DataOffset);
                ParkedConnection? parked;
                lock (_lock)
                {
                    parked = Take(fd);
                }

                if (parked is null)
                {
                    continue;
                }

                if ((flags & (EpollErr | EpollHup)) != 0 && parked.ServerFd < 0)
                {
                    Close(parked, SessionTermination.ClientAborted); // the client went away while parked
                }
                else
                {
                    ThreadPool.UnsafeQueueUserWorkItem(static p => p.Listener.Resume(p), parked, preferLocal: false);
                }
            }

            long now = Environment.TickCount64;
            if (now >= nextSweep)
            {
                nextSweep = now + SweepMilliseconds;
                Sweep(now);
                TrimAfterBurst(now);
            }
        }

        Native.close(_epoll);
    }

    /// <summary>
    /// After a burst of parking (at least <see cref="TrimBurst"/> more connections parked, a quarter more than at the
    /// last trim, then <see cref="TrimQuietMilliseconds"/> without a new one), compacts the heap and gives its free
    /// memory back: the sessions of those connections were promoted to the oldest generation while they lived and are
    /// garbage there now, which a quiet process would keep resident until its next full collection. At most once in
    /// two seconds; logged with the pause it took (event 1007).
    /// </summary>
    private void TrimAfterBurst(long now)
    {
        int count = Count;
        if (count - _trimmedAt < TrimBurst || count < _trimmedAt + _trimmedAt / 4 || now - Volatile.Read(ref _lastAdd) < TrimQuietMilliseconds
            || now - _lastTrim < 2_000 || _log is null)
        {
            return;
        }

        _trimmedAt = count;
        _lastTrim = now;
        long before = GC.GetTotalMemory(false);
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        TrimNativeHeap();
        TimeSpan took = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        AcceptLog.HeapTrimmed(_log, count, before / 1048576.0, GC.GetTotalMemory(false) / 1048576.0, took.TotalMilliseconds);
    }

    private static int _noMallocTrim;

    /// <summary>
    /// Gives the native heap's free pages back too (glibc's <c>malloc_trim</c>): what the sessions of the parked
    /// connections freed there (a TLS handshake's buffers, for one) otherwise stays resident. Off where there is no such call.
    /// </summary>
    private static void TrimNativeHeap()
    {
        if (Volatile.Read(ref _noMallocTrim) != 0)
        {
            return;
        }

        try
        {
            Native.malloc_trim(0);
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            Volatile.Write(ref _noMallocTrim, 1);
        }
    }

    private void Sweep(long now)
    {
        List<ParkedConnection>? expired = null;
        lock (_lock)
        {
            if (_count == 0)
            {
                return;
            }

            for (int fd = 0; fd < _byFd.Length; fd++)
            {
                if (_byFd[fd] is { } parked && now >= parked.Deadline)
                {
                    (expired ??= []).Add(Take(fd)!);
                }
            }
        }

        foreach (ParkedConnection parked in expired ?? [])
        {
            Close(parked, parked.TimeoutTermination);
        }
    }

    /// <summary>
    /// Removes the connection parked on <paramref name="fd"/> (the client's or, for a join, the server's descriptor) from
    /// the table and the epoll set, both descriptors of a join; call under the lock.
    /// </summary>
    private ParkedConnection? Take(int fd)
    {
        if (fd < 0 || fd >= _byFd.Length || _byFd[fd] is not { } parked)
        {
            return null;
        }

        _byFd[parked.Fd] = null;
        Native.epoll_ctl(_epoll, EpollCtlDel, parked.Fd, null);
        if (parked.ServerFd >= 0)
        {
            _byFd[parked.ServerFd] = null;
            Native.epoll_ctl(_epoll, EpollCtlDel, parked.ServerFd, null);
        }

        _count--;
        return parked;
    }

    private static void Close(ParkedConnection parked, SessionTermination why)
    {
        CloseDescriptors(parked);
        parked.Listener.ParkedClosed(parked, why);
    }

    public void Dispose()
    {
        List<ParkedConnection> closing = [];
        lock (_lock)
        {
            _disposed = true;
            for (int fd = 0; fd < _byFd.Length; fd++)
            {
                if (Take(fd) is { } parked)
                {
                    closing.Add(parked);
                }
            }

            if (_thread is null)
            {
                Native.close(_epoll);
            }
        }

        foreach (ParkedConnection parked in closing)
        {
            Close(parked, SessionTermination.Shutdown);
        }
    }

    /// <summary>The runtime socket engines' epoll descriptors (System.Net.Sockets.SocketAsyncEngine, private).</summary>
    private static int[]? RuntimeEventPorts()
    {
        try
        {
            Type? engine = typeof(Socket).Assembly.GetType("System.Net.Sockets.SocketAsyncEngine");
            FieldInfo? engines = engine?.GetField("s_engines", BindingFlags.NonPublic | BindingFlags.Static);
            FieldInfo? port = engine?.GetField("_port", BindingFlags.NonPublic | BindingFlags.Instance);
            if (engines?.GetValue(null) is not Array array || port is null || port.FieldType != typeof(IntPtr))
            {
                return null;
            }

            var ports = new int[array.Length];
            for (int i = 0; i < ports.Length; i++)
            {
                ports[i] = (int)(IntPtr)port.GetValue(array.GetValue(i))!;
            }

            return ports;
        }
        catch (Exception ex) when (ex is TargetInvocationException or TypeLoadException or InvalidCastException or MemberAccessException)
        {
            return null;
        }
    }

    private static class Native
    {
        [DllImport("libc", SetLastError = true)]
        public static extern int epoll_create1(int flags);

        [DllImport("libc", SetLastError = true)]
        public static extern int epoll_ctl(int epfd, int op, int fd, byte[]? ev);

        [DllImport("libc", SetLastError = true)]
        public static extern int epoll_wait(int epfd, byte[] events, int maxEvents, int timeout);

        [DllImport("libc", SetLastError = true)]
        public static extern int fcntl(int fd, int cmd, int arg);

        [DllImport("libc", SetLastError = true)]
        public static extern int close(int fd);

        [DllImport("libc", SetLastError = true)]
        public static extern int getsockopt(int fd, int level, int name, byte[] value, ref int length);

        [DllImport("libc")]
        public static extern int malloc_trim(nuint pad);

        [DllImport("libc", SetLastError = true)]
        public static extern int setsockopt(int fd, int level, int name, byte[] value, int length);
    }
}
