namespace PluginProxy.Plugins.Shared;

/// <summary>Something with a deadline that the <see cref="TimeoutScanner"/> checks: a joined tcp session, an HTTP connection.</summary>
internal interface IExpiring
{
    /// <summary>True when a timeout is due at <paramref name="now"/> (<see cref="Environment.TickCount64"/>). Must be cheap: it is called every tick.</summary>
    bool IsExpired(long now);

    /// <summary>Ends what timed out (checking again: activity may have moved the deadline since <see cref="IsExpired"/>).</summary>
    void Expire(long now);
}
