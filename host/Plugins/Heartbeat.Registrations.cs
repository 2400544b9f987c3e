using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;

namespace PluginProxy.Host.Plugins;

internal sealed partial class Heartbeat
{
    /// <summary>
    /// The registrations of one plugin version or script: what the <see cref="IHeartbeat"/> it was given holds. Disposed
    /// with that version's service provider, which drops every registration and stops checking them.
    /// </summary>
    internal sealed class Registrations(Heartbeat heartbeat, ILogger log) : IHeartbeat, IDisposable
    {
        private readonly HashSet<IExpiring> _targets = new(ReferenceEqualityComparer.Instance);
        private bool _closed;

        public TimeSpan Period => Heartbeat.Period;

        /// <summary>How many targets are registered.</summary>
        public int Count
        {
            get
            {
                lock (_targets)
                {
                    return _targets.Count;
                }
            }
        }

        public void Add(IExpiring target)
        {
            ArgumentNullException.ThrowIfNull(target);
            lock (_targets)
            {
                if (!_closed)
                {
                    _targets.Add(target);
                }
            }
        }

        public void Remove(IExpiring target)
        {
            lock (_targets)
            {
                _targets.Remove(target);
            }
        }

        /// <summary>The registered targets now.</summary>
        internal IExpiring[] Snapshot()
        {
            lock (_targets)
            {
                return [.. _targets];
            }
        }

        /// <summary>Adds to <paramref name="due"/> the targets whose timeout is due at <paramref name="now"/>.</summary>
        internal void CollectDue(long now, List<IExpiring> due)
        {
            lock (_targets)
            {
                foreach (IExpiring target in _targets)
                {
                    if (IsExpired(target, now))
                    {
                        due.Add(target);
                    }
                }
            }
        }

        private bool IsExpired(IExpiring target, long now)
        {
            try
            {
                return target.IsExpired(now);
            }
            catch (Exception ex)
            {
                // Plugin code: a throwing target is expired, and dropped there if it throws again, never the heartbeat.
                PluginLog.TimeoutCheckThrew(log, ex, target.GetType().FullName);
                return true;
            }
        }

        /// <summary>Expires <paramref name="target"/>, outside the lock: expiring closes sockets, which may remove it.</summary>
        internal void Expire(IExpiring target, long now)
        {
            try
            {
                target.Expire(now);
            }
            catch (Exception ex)
            {
                // Nothing may escape the heartbeat's thread (it would end the process). A target that fails to expire is
                // dropped rather than failing on every beat.
                PluginLog.TimeoutExpireThrew(log, ex, target.GetType().FullName);
                Remove(target);
            }
        }

        /// <summary>Drops every registration and stops checking them (the plugin version is unloaded).</summary>
        public void Dispose()
        {
            lock (_targets)
            {
                _closed = true;
                _targets.Clear();
            }

            heartbeat.Close(this);
        }
    }
}
