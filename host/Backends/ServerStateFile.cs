using System.Text.Json;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Backends;

/// <summary>
/// <c>server_state_file</c>: the runtime API's decisions about servers (admin state, weight) kept across restarts, as
/// HAProxy's <c>server-state-file</c>. Written whole (to a temporary file, then renamed) after each change and at stop;
/// read at start, where it applies to each configured server of the same backend, name and address. A weight set at run
/// time applies only while the file's configured weight is still the one it was set against: a newer value in the
/// configuration wins, as on a reload. Servers added at run time are not recreated (as in HAProxy): name them in the file.
/// </summary>
internal static class ServerStateFile
{
    private const int Version = 1;

    private sealed record Entry(string Backend, string Server, string Address, string State, int Weight, int ConfiguredWeight);

    private sealed record Contents(int Version, DateTimeOffset Saved, List<Entry> Servers);

    private static readonly JsonSerializerOptions Options = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    /// <summary>Writes the state of every server of <paramref name="backends"/> to <paramref name="path"/>; the problem, or null.</summary>
    public static string? Save(string path, BackendCatalog backends)
    {
        var contents = new Contents(Version, DateTimeOffset.UtcNow, backends.Backends
            .SelectMany(b => b.ServerStates.Select(s => new Entry(b.Name, s.Name, s.AddressKey, ServerAdminStates.Name(s.AdminState), s.Weight, s.ConfiguredWeight)))
            .ToList());
        string temporary = path + ".tmp";
        try
        {
            File.WriteAllText(temporary, JsonSerializer.Serialize(contents, Options));
            File.Move(temporary, path, overwrite: true);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return ex.Message;
        }
    }

    /// <summary>
    /// Applies what <paramref name="path"/> says to the servers of <paramref name="backends"/>: how many servers it
    /// changed, or the problem (a missing file is no problem: nothing was changed yet).
    /// </summary>
    public static (int Applied, string? Problem) Restore(string path, BackendCatalog backends)
    {
        Contents? contents;
        try
        {
            if (!File.Exists(path))
            {
                return (0, null);
            }

            contents = JsonSerializer.Deserialize<Contents>(File.ReadAllText(path), Options);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            return (0, ex.Message);
        }

        if (contents is not { Version: Version, Servers: { } entries })
        {
            return (0, $"not a version-{Version} server state file");
        }

        int applied = 0;
        foreach (Entry entry in entries)
        {
            if (backends.Find(entry.Backend) is not Backend backend
                || backend.Find(entry.Server) is not { } server
                || server.AddressKey != entry.Address
                || !ServerAdminStates.TryParse(entry.State, out ServerAdminState state))
            {
                continue;
            }

            bool weightHolds = entry.ConfiguredWeight == server.ConfiguredWeight && entry.Weight is >= 0 and <= Server.MaxWeight && entry.Weight != server.Weight;
            if (state == server.AdminState && !weightHolds)
            {
                continue;
            }

            server.SetAdminState(state);
            if (weightHolds)
            {
                server.SetWeight(entry.Weight);
                backend.Rebalance();
            }

            applied++;
        }

        return (applied, null);
    }
}
