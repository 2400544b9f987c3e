using System.Text;
using PluginProxy.Abstractions;

namespace PluginProxy.Host.Logging;

/// <summary>
/// Writes access-log lines to standard output without allocating: lines are encoded into one of two buffers, and a
/// background thread writes a full (or 50 ms old) buffer while the other fills. If output cannot keep up and both
/// buffers are full, lines are dropped and counted rather than slowing the proxy down.
/// </summary>
internal sealed class ConsoleAccessLog : IAccessLog, IDisposable
{
    private const int BufferSize = 256 * 1024;
    private static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(50);

    private readonly Stream _output;
    private readonly object _gate = new();
    private readonly Thread _writer;
    private readonly AutoResetEvent _wake = new(false);
    private byte[] _filling = new byte[BufferSize];
    private byte[] _spare = new byte[BufferSize];
    private int _length;
    private bool _spareBusy;
    private volatile bool _stopping;
    private long _dropped;

    public ConsoleAccessLog(bool enabled, Stream? output = null)
    {
        IsEnabled = enabled;
        _output = output ?? Console.OpenStandardOutput();
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "access-log" };
        _writer.Start();
    }

    public bool IsEnabled { get; }

    public long Dropped => Interlocked.Read(ref _dropped);

    public void Write(ReadOnlySpan<char> line)
    {
        if (!IsEnabled)
        {
            return;
        }

        // "2026-11-30T00:14:04.703Z info  access: " + line + "\n"
        int needed = 40 + Encoding.UTF8.GetMaxByteCount(line.Length);
        lock (_gate)
        {
            if (BufferSize - _length < needed && !TrySwap())
            {
                _dropped++;
                return;
            }

            Span<byte> target = _filling.AsSpan(_length);
            DateTime.UtcNow.TryFormat(target, out int written, "yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture);
            " info  access: "u8.CopyTo(target[written..]);
            written += 15;
            written += Encoding.UTF8.GetBytes(line, target[written..]);
            target[written++] = (byte)'\n';
            _length += written;
        }
    }

    public void Write(in AccessRecord record)
    {
        if (IsEnabled && record.Logged)
        {
            Span<char> line = stackalloc char[AccessLogText.MaxLength];
            Write(line[..AccessLogText.Format(record, line)]);
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

    private int _pendingLength;

    private void WriteLoop()
    {
        while (true)
        {
            _wake.WaitOne(FlushInterval);
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
                try
                {
                    _output.Write(toWrite, 0, length);
                    _output.Flush();
                }
                catch (IOException)
                {
                    // Output closed (a pipe whose reader went away): keep serving traffic; the lines are lost.
                }

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

    public void Dispose()
    {
        _stopping = true;
        _wake.Set();
        _writer.Join(TimeSpan.FromSeconds(2));
        _wake.Dispose();
    }
}
