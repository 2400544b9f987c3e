using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Stores;

/// <summary>One <c>[[store]]</c> as configured.</summary>
/// <param name="Name"><c>name</c>: what stick tables and plugins call it.</param>
/// <param name="Kind"><c>kind</c>: <c>redis</c>, the only kind today.</param>
/// <param name="Address"><c>address</c>: <c>host:port</c> of the server (port 6379 when left out).</param>
/// <param name="PasswordFile"><c>password_file</c>: the absolute path of the file holding the password, or null.</param>
/// <param name="Prefix"><c>prefix</c>: put before every key the store writes, so that several deployments can share a server.</param>
/// <param name="SyncInterval"><c>sync_interval</c>: how often counts are exchanged.</param>
/// <param name="Timeout"><c>timeout</c>: how long an exchange or a connection attempt may take before the store counts as down.</param>
/// <param name="FailClosed"><c>on_store_failure = "closed"</c>: decisions that need every instance's counts refuse while the store is down.</param>
/// <param name="Spot">Where the store's name is written.</param>
internal sealed record StoreConfig(
    string Name, string Kind, string Address, string? PasswordFile, string Prefix, TimeSpan SyncInterval, TimeSpan Timeout, bool FailClosed, SourceSpot Spot)
{
    /// <summary>The password read from <see cref="PasswordFile"/> (set by <see cref="ConfigMaterializer"/>), or null.</summary>
    public string? Password { get; init; }

    /// <summary>Where <c>password_file</c> is written, or null.</summary>
    public SourceSpot? PasswordSpot { get; init; }

    /// <summary>The record's printed form, with the password left out (a configuration may end up in a log or an exception).</summary>
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append($"Name = {Name}, Kind = {Kind}, Address = {Address}, PasswordFile = {PasswordFile}, Password = {(Password is null ? "none" : "(hidden)")}, ");
        builder.Append($"Prefix = {Prefix}, SyncInterval = {SyncInterval}, Timeout = {Timeout}, FailClosed = {FailClosed}, Spot = {Spot}");
        return true;
    }

    /// <summary>True when a running store of <paramref name="other"/> can keep serving this configuration unchanged.</summary>
    public bool SameConnection(StoreConfig other) =>
        Kind == other.Kind && Address == other.Address && Password == other.Password && Prefix == other.Prefix
        && SyncInterval == other.SyncInterval && Timeout == other.Timeout && FailClosed == other.FailClosed;
}
