namespace PluginProxy.Abstractions;

/// <summary>
/// The host's one timer for connection timeouts, offered to every plugin by injection (ask for <see cref="IHeartbeat"/>
/// in a supervisor's constructor). Every <see cref="Period"/>, one host thread asks each registered
/// <see cref="IExpiring"/> whether a timeout is due and expires those that say so; so a connection costs no timer of its
/// own, and moving bytes costs only a timestamp write. Timeouts are enforced within one period of their deadline.
/// </summary>
/// <remarks>
/// Register a connection once for its whole life (not once per request) and remove it when it ends. The registrations of
/// a plugin version are dropped when that version is unloaded, so nothing registered keeps its code in memory; a
/// registration made after that is ignored.
/// </remarks>
public interface IHeartbeat
{
    /// <summary>The time between two beats: the precision of every timeout enforced through the heartbeat.</summary>
    TimeSpan Period { get; }

    /// <summary>Checks <paramref name="target"/> on every beat from now on. Adding the same object twice registers it once.</summary>
    void Add(IExpiring target);

    /// <summary>Stops checking <paramref name="target"/>. Removing an object that is not registered does nothing.</summary>
    void Remove(IExpiring target);
}
