using PluginProxy.Host.Admin;
using PluginProxy.Host.Backends;

namespace PluginProxy.Host;

/// <summary>What the runtime API needs of the host: its changes run between reloads, start checks, and are kept in the state file.</summary>
internal sealed partial class ProxyHost
{
    private RuntimeChanges? _runtime;

    /// <summary>The runtime API's changes to servers.</summary>
    public RuntimeChanges Runtime => _runtime ??= new RuntimeChanges(this, _loggers.CreateLogger("PluginProxy.Admin"));

    /// <summary>Runs <paramref name="change"/> between reloads, so that it lands in the configuration that stays running.</summary>
    public async Task<T> BetweenReloadsAsync<T>(Func<T> change)
    {
        await _reloadGate.WaitAsync().ConfigureAwait(false);
        try
        {
            return change();
        }
        finally
        {
            _reloadGate.Release();
        }
    }

    /// <summary>Starts the health checks of a server the runtime API added, if its backend has a check.</summary>
    public void StartChecks(Server server, Backend backend) => _health?.Add(server, backend);

    /// <summary>Writes every server's admin state and weight to <c>server_state_file</c>, when one is configured.</summary>
    public void SaveServerState()
    {
        if (Config.Global.ServerStateFile is { } path && ServerStateFile.Save(path, Backends) is { } problem)
        {
            HostLog.ServerStateNotSaved(_log, path, problem);
        }
    }

    /// <summary>At start: applies what <c>server_state_file</c> kept from the last run.</summary>
    private void RestoreServerState()
    {
        if (Config.Global.ServerStateFile is not { } path)
        {
            return;
        }

        (int applied, string? problem) = ServerStateFile.Restore(path, Backends);
        if (problem is not null)
        {
            HostLog.ServerStateNotRestored(_log, path, problem);
        }
        else if (applied > 0)
        {
            HostLog.ServerStateRestored(_log, applied, path);
        }
    }
}
