namespace PluginProxy.Plugins.Shared;

/// <summary>
/// Checks the timeouts of every registered session from one timer, so that a session costs no timer of its own and
/// moving bytes costs only a timestamp write. Sessions time out within one tick (<see cref="Tick"/>) after their deadline.
/// Owned by a supervisor and disposed with it, so no timer outlives the plugin version that started it.
/// </summary>
internal sealed class TimeoutScanner : IDisposable
{
    /// <summary>How often deadlines are checked: the precision of every timeout enforced here.</summary>
    public static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(50);

    private readonly HashSet<IExpiring> _relays = new(ReferenceEqualityComparer.Instance);
    private readonly List<IExpiring> _expired = [];
    private readonly Timer _timer;

    public TimeoutScanner()
    {
        _timer = new Timer(static state => ((TimeoutScanner)state!).Scan(), this, Tick, Tick);
    }

    public void Add(IExpiring relay)
    {
        lock (_relays)
        {
            _relays.Add(relay);
        }
    }

    public void Remove(IExpiring relay)
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
                foreach (IExpiring relay in _relays)
                {
                    if (relay.IsExpired(now))
                    {
                        _expired.Add(relay);
                    }
                }
            }

            // Expire outside the set's lock: closing sockets completes the pumps, which unregister their relay.
            foreach (IExpiring relay in _expired)
            {
                relay.Expire(now);
            }

            _expired.Clear();
        }
    }

    public void Dispose() => _timer.Dispose();
}
