namespace PluginProxy.Host.Admin;

/// <summary>
/// How many sessions of a listener have a channel held by analyzers, and how many forward autonomously
/// (<see cref="PluginProxy.Abstractions.ChannelFlags.Autonomous"/>: a body, a tunnel or a tcp relay moving without the supervisor).
/// </summary>
internal readonly record struct ChannelStates(int Held, int Autonomous)
{
    /// <summary>The counts of every listener with a running session, by listener name.</summary>
    public static Dictionary<string, ChannelStates> ByListener(ProxyHost host)
    {
        var counts = new Dictionary<string, ChannelStates>(StringComparer.Ordinal);
        foreach (Sessions.Session session in host.Sessions.Snapshot())
        {
            ChannelStates current = counts.GetValueOrDefault(session.Listener.Name);
            counts[session.Listener.Name] = new ChannelStates(current.Held + (session.IsHeld ? 1 : 0), current.Autonomous + (session.IsAutonomous ? 1 : 0));
        }

        return counts;
    }
}
