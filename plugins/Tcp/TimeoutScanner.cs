namespace PluginProxy.Tcp;

/// <summary>
/// Checks the timeouts of every joined tcp session from one timer, so that a session costs no timer of its own and
/// moving bytes costs only a timestamp write. Sessions time out within one tick (<see cref="Tick"/>) after their deadline.
/// </summary>
internal sealed class TimeoutScanner : IDisposable
{
    /// <summary>How often deadlines are checked: the precision of every timeout enforced here.</summary>
    public static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(50);

    private readonly HashSet<TcpRelay> _relays = new(ReferenceEqualityComparer.Instance);
    private readonly List<TcpRelay> _expired = [];
    private readonly Timer _timer;

    public TimeoutScanner()
    {
        _timer = new Timer(static state => ((TimeoutScanner)state!).Scan(), this, Tick, Tick);
    }

    public void Add(TcpRelay relay)
    {
        lock (_relays)
        {
            _relays.Add(relay);
        }
    }

    public void Remove(TcpRelay relay)
    {
        lock (_relays)
        {
            _relays.Remove(relay);
        }
    }

    private void Scan()
    {
        long now = Environment.TickCount64;
        lock (_expired)
        {
            lock (_relays)
            {
                foreach (TcpRelay relay in _relays)
                {
                    if (relay.IsExpired(now))
                    {
                        _expired.Add(relay);
                    }
                }
            }

            // Expire outside the set's lock: closing sockets completes the pumps, which unregister their relay.
            foreach (TcpRelay relay in _expired)
            {
                relay.Expire(now);
            }

            _expired.Clear();
        }
    }

    public void Dispose() => _timer.Dispose();
}
