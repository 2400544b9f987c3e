namespace PluginProxy.Abstractions.Stores;

/// <summary>Whether a store shares now.</summary>
public enum StoreState
{
    /// <summary>Not reached yet since the proxy started: counters are this instance's own.</summary>
    Connecting,

    /// <summary>The last exchange succeeded: counters include every instance's counts, as of the last exchange.</summary>
    Up,

    /// <summary>Unreachable or too slow: counters fall back to this instance's own counts until it answers again.</summary>
    Down,
}
