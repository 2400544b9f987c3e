namespace PluginProxy.Host.Backends;

/// <summary>
/// What the operator decided for a server through the runtime API (HAProxy's <c>set server ... state</c>), beside what
/// health checks found (<see cref="Server.IsUp"/>).
/// </summary>
internal enum ServerAdminState
{
    /// <summary>Takes traffic when it is up (the state of every configured server at start).</summary>
    Ready,

    /// <summary>Takes no new stream; streams already running finish; health checks go on.</summary>
    Drain,

    /// <summary>Takes no traffic and is not checked (maintenance); streams already running finish.</summary>
    Maint,
}

/// <summary>The names the API, the command line and the state file use for <see cref="ServerAdminState"/>.</summary>
internal static class ServerAdminStates
{
    public static string Name(ServerAdminState state) => state switch
    {
        ServerAdminState.Drain => "drain",
        ServerAdminState.Maint => "maint",
        _ => "ready",
    };

    public static bool TryParse(string? text, out ServerAdminState state)
    {
        switch (text)
        {
            case "ready":
                state = ServerAdminState.Ready;
                return true;
            case "drain":
                state = ServerAdminState.Drain;
                return true;
            case "maint":
                state = ServerAdminState.Maint;
                return true;
            default:
                state = ServerAdminState.Ready;
                return false;
        }
    }
}
