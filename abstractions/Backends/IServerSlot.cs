namespace PluginProxy.Abstractions;

/// <summary>A counted place on a server, held by a <see cref="ServerLease"/>; the host's servers provide it.</summary>
public interface IServerSlot
{
    /// <summary>Gives one slot back to its server, which hands it to the oldest stream waiting for it.</summary>
    void Release();
}
