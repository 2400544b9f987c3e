namespace PluginProxy.Abstractions;

/// <summary>
/// The entry point of a plugin assembly: the host finds the one public, non-abstract class implementing it, creates it
/// with its parameterless constructor and calls <see cref="Configure"/>, then <see cref="StartAsync"/>. The instance lives
/// as long as this version of the plugin is loaded.
/// </summary>
/// <remarks>
/// A plugin version is unloaded when a new build replaces it, when its folder is removed, or when the proxy stops; it
/// then gets <see cref="StopAsync"/> after the last session using it ended, and its services are disposed. Everything a
/// plugin starts (timers, threads, handlers on static events) must be stopped there or in a service's <c>Dispose</c>:
/// anything left running keeps the plugin's code in memory, and the host logs it as a leak.
/// </remarks>
public interface IPlugin
{
    /// <summary>Announces what the plugin provides (supervisors, analyzers) and registers its own services.</summary>
    void Configure(IPluginBuilder builder);

    /// <summary>
    /// Called once the plugin's services are built and before anything it provides serves a session: start background
    /// work here. Throwing refuses this version (the previous one, if any, keeps serving).
    /// </summary>
    /// <param name="services">The plugin's service provider (its own services and the host's).</param>
    /// <param name="cancellationToken">Signalled if starting takes too long.</param>
    ValueTask StartAsync(IServiceProvider services, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>
    /// Called before this version is unloaded, after its last session ended: stop what <see cref="StartAsync"/> started.
    /// It runs on a thread of its own, never on a socket thread, and may take up to 10 s.
    /// </summary>
    /// <param name="cancellationToken">Signalled if stopping takes too long.</param>
    ValueTask StopAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
