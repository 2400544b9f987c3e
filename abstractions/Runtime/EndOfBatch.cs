using System.Net.Sockets;

namespace PluginProxy.Abstractions;

/// <summary>Work put off until the socket event thread has handled the batch of events it woke for (<see cref="EndOfBatch"/>).</summary>
public interface IEndOfBatchWork
{
    /// <summary>Runs on the socket event thread that put the work off; must not block or throw.</summary>
    void Run();
}

/// <summary>
/// Lets code running on a socket event thread put work off until that thread has handled every event of its current
/// batch: an HTTP/2 connection whose streams are answered by several servers at once writes all the answers that
/// arrived together in one send, as an event loop flushes its output once per wake-up.
/// </summary>
/// <remarks>
/// <para>
/// With <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c> (the host's default) socket continuations run on the
/// runtime's socket event threads, each of which waits for a batch of readiness events (epoll) and handles them one by
/// one. <see cref="Start"/> gives each such thread a signal: a Unix datagram socket connected to itself, with a receive
/// pending. <see cref="TryDefer"/> records the work and, once per batch, sends the signal one byte; the signal becomes
/// readable, and the thread sees it in its next batch, after the events it is handling now, then runs the work.
/// </para>
/// <para>
/// A thread learns its signal when the signal's first receive completes on it; the signals are made together at start
/// (the runtime spreads new sockets over its event threads in turn), twice as many as there can be threads, and the ones
/// that land on a thread already served are closed. Where no signal serves the thread (thread-pool threads, completions
/// not inline), <see cref="TryDefer"/> returns false and the caller does the work at once.
/// </para>
/// </remarks>
public static class EndOfBatch
{
    [ThreadStatic]
    private static Signal? t_signal;
    private static int s_started;

    /// <summary>Makes the signals, once per process; later calls do nothing.</summary>
    public static void Start()
    {
        if (Interlocked.Exchange(ref s_started, 1) != 0 || !OperatingSystem.IsLinux())
        {
            return;
        }

        int count = 2 * Environment.ProcessorCount;
        for (int i = 0; i < count; i++)
        {
            try
            {
                new Signal(i).Start();
            }
            catch (SocketException)
            {
                // No Unix datagram sockets here: the work is done at once, as without signals.
                return;
            }
        }
    }

    /// <summary>Puts <paramref name="work"/> off to the end of this thread's batch; false when this thread has no signal (then do it now).</summary>
    public static bool TryDefer(IEndOfBatchWork work)
    {
        Signal? signal = t_signal;
        return signal is not null && signal.Add(work);
    }

    private sealed class Signal
    {
        private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        private readonly byte[] _one = [1];
        private readonly byte[] _received = new byte[16];
        private List<IEndOfBatchWork> _pending = [];
        private List<IEndOfBatchWork> _running = [];
        private bool _armed;

        public Signal(int index)
        {
            // An abstract address (leading NUL): nothing on disk, gone with the process.
            var self = new UnixDomainSocketEndPoint($"\0pluginproxy-{Environment.ProcessId}-{Guid.NewGuid():N}-{index}");
            try
            {
                _socket.Bind(self);
                _socket.Connect(self);
            }
            catch
            {
                _socket.Dispose();
                throw;
            }
        }

        public void Start()
        {
            Thread starter = Thread.CurrentThread;
            // The receive is pending before the first byte is sent, so it completes on the event thread, not here.
            _ = RunAsync(starter);
            _socket.Send(_one);
        }

        /// <summary>Records the work (on the signal's own thread, so without a lock) and signals once per batch.</summary>
        public bool Add(IEndOfBatchWork work)
        {
            _pending.Add(work);
            if (_armed)
            {
                return true;
            }

            _armed = true;
            try
            {
                _socket.Send(_one);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Cannot signal: run what waits now rather than never.
                RunPending();
            }

            return true;
        }

        private async Task RunAsync(Thread starter)
        {
            try
            {
                await _socket.ReceiveAsync(_received, SocketFlags.None).ConfigureAwait(false);
                Thread current = Thread.CurrentThread;
                if (current == starter || current.IsThreadPoolThread || t_signal is not null)
                {
                    // Not a socket event thread, or one that already has its signal.
                    _socket.Dispose();
                    return;
                }

                t_signal = this;
                while (true)
                {
                    await _socket.ReceiveAsync(_received, SocketFlags.None).ConfigureAwait(false);
                    RunPending();
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // The signal is closed: work is done at once from now on.
                if (t_signal == this)
                {
                    t_signal = null;
                }

                RunPending();
            }
        }

        private void RunPending()
        {
            _armed = false;
            (_pending, _running) = (_running, _pending);
            foreach (IEndOfBatchWork work in _running)
            {
                work.Run();
            }

            _running.Clear();
        }
    }
}
