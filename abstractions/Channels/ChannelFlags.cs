namespace PluginProxy.Abstractions;

/// <summary>The state flags of a <see cref="Channel"/>.</summary>
[Flags]
public enum ChannelFlags
{
    /// <summary>No flag: data is read and forwarded by the supervisor as it sees fit.</summary>
    None = 0,

    /// <summary>Nothing is forwarded until the flow analyzers release the channel; data accumulates up to the read limit.</summary>
    Hold = 1 << 0,

    /// <summary>Bytes flow end to end without waking the supervisor; only an error, a timeout or a close does.</summary>
    Autonomous = 1 << 1,

    /// <summary>The producing side has closed its end (a FIN was read): no more data will arrive on this channel.</summary>
    InputEnded = 1 << 2,
}
