using System.Text;
using Microsoft.Extensions.Logging;

namespace PluginProxy.Host.Logging;

/// <summary>
/// Carries traffic-log lines to one <see cref="LogDestination"/> without allocating: lines are encoded into one of two
/// buffers, and a thread of its own writes a full (or 50 ms old) buffer while the other fills. If the destination
/// cannot keep up and both buffers are full, lines are dropped and counted rather than slowing the proxy down.
/// </summary>
internal sealed class LogChannel : IDisposable
{
    private const int BufferSize = 256 * 1024;
    private static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(50);

    private readonly LogDestination _destination;
    private readonly ILogger _log;
    private readonly object _gate = new();
    private readonly Thread _writer;
    private readonly AutoResetEvent _wake = new(false);
    private byte[] _filling = new byte[BufferSize];
    private byte[] _spare = new byte[BufferSize];
    private int _length;
    private int _pendingLength;
    private bool _spareBusy;
    private bool _closed;
    private volatile bool _stopping;
    private volatile bool _reopen;
    private bool _failing;
    private long _dropped;

    public LogChannel(LogDestination destination, ILogger log)
    {
        _destination = destination;
        _log = log;
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "access-log" };
        _writer.Start();
    }

    public string Name => _destination.Name;

    /// <summary>Lines dropped because the destination could not keep up (or the channel was closed).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Appends one line: <paramref name="prefix"/>'s prefix, then <paramref name="text"/> in UTF-8 (line endings in it become spaces).</summary>
    public void Append(LinePrefix prefix, LineKind kind, ReadOnlySpan<char> text)
    {
        int needed = LinePrefix.MaxLength + Encoding.UTF8.GetMaxByteCount(text.Length) + 1;
        lock (_gate)
        {
            if (!TryMakeRoom(needed))
            {
                return;
            }

            Span<byte> target = _filling.AsSpan(_length);
            int written = prefix.Write(target, kind);
            int encoded = Encoding.UTF8.GetBytes(text, target[written..]);
            Flatten(target.Slice(written, encoded));
            written += encoded;
            target[written++] = (byte)'\n';
            _length += written;
        }
    }

    /// <summary>Appends one line already in UTF-8 (a JSON object), after <paramref name="prefix"/>'s prefix.</summary>
    public void Append(LinePrefix prefix, LineKind kind, ReadOnlySpan<byte> utf8)
    {
        int needed = LinePrefix.MaxLength + utf8.Length + 1;
        lock (_gate)
        {
            if (!TryMakeRoom(needed))
            {
                return;
            }

            Span<byte> target = _filling.AsSpan(_length);
            int written = prefix.Write(target, kind);
            utf8.CopyTo(target[written..]);
            Flatten(target.Slice(written, utf8.Length));
            written += utf8.Length;
            target[written++] = (byte)'\n';
            _length += written;
        }
    }

    /// <summary>Asks the writer thread to open the destination's file again before its next write (SIGUSR1).</summary>
    public void RequestReopen()
    {
        _reopen = true;
        try
        {
            _wake.Set();
        }
        catch (ObjectDisposedException)
        {
            // Closed meanwhile (a reload replaced the target, or the proxy stops): nothing to reopen.
        }
    }

    /// <summary>Under the lock: true when the filling buffer has <paramref name="needed"/> bytes free (swapping if it must).</summary>
    private bool TryMakeRoom(int needed)
    {
        if (!_closed && needed <= BufferSize && (BufferSize - _length >= needed || TrySwap()))
        {
            return true;
        }

        _dropped++;
        return false;
    }

    /// <summary>Line endings inside a line would split it (a forged line, or two syslog messages): they become spaces.</summary>
    private static void Flatten(Span<byte> line)
    {
        int at;
        while ((at = line.IndexOfAny((byte)'\n', (byte)'\r')) >= 0)
        {
            line[at] = (byte)' ';
            line = line[(at + 1)..];
        }
    }

    /// <summary>Hands the filling buffer to the writer thread if the spare one is free. Called under the lock.</summary>
    private bool TrySwap()
    {
        if (_spareBusy)
        {
            return false;
        }

        (_filling, _spare) = (_spare, _filling);
        _spareBusy = true;
        _pendingLength = _length;
        _length = 0;
        _wake.Set();
        return true;
    }

    private void WriteLoop()
    {
        while (true)
        {
            _wake.WaitOne(FlushInterval);
            if (_reopen)
            {
                _reopen = false;
                ReopenFile();
            }

            byte[]? toWrite = null;
            int length = 0;
            lock (_gate)
            {
                if (!_spareBusy && _length > 0)
                {
                    TrySwap();
                }

                if (_spareBusy)
                {
                    toWrite = _spare;
                    length = _pendingLength;
                }
            }

            if (toWrite is not null)
            {
                WriteBatch(toWrite.AsSpan(0, length));
                lock (_gate)
                {
                    _spareBusy = false;
                }
            }
            else if (_stopping)
            {
                return;
            }
        }
    }

    private void WriteBatch(ReadOnlySpan<byte> batch)
    {
        try
        {
            _destination.Write(batch);
            if (_failing)
            {
                _failing = false;
                TrafficLog.WriteResumed(_log, _destination.Name);
            }
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            // Output closed (a pipe whose reader went away, a syslog daemon not running): keep serving traffic; the lines are lost.
            if (!_failing)
            {
                _failing = true;
                TrafficLog.WriteFailed(_log, _destination.Name, ex.Message);
            }
        }
    }

    private void ReopenFile()
    {
        try
        {
            if (_destination.Reopen())
            {
                TrafficLog.Reopened(_log, _destination.Name);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TrafficLog.ReopenFailed(_log, _destination.Name, ex.Message);
        }
    }

    /// <summary>Writes what is buffered, stops the writer thread and closes the destination; later lines are dropped.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
        }

        _stopping = true;
        _wake.Set();
        // A destination that blocks past the wait (a stuck syslog socket times out on its own) is left to the thread.
        if (_writer.Join(TimeSpan.FromSeconds(2)))
        {
            _destination.Dispose();
            _wake.Dispose();
        }
    }
}
