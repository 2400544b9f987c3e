namespace PluginProxy.Abstractions;

/// <summary>
/// The entry point of a plugin assembly: the host finds the one public, non-abstract class implementing it,
/// creates it with its parameterless constructor and calls <see cref="Configure"/>.
/// </summary>
public interface IPlugin
{
    /// <summary>Announces what the plugin provides (supervisors, analyzers) and registers its own services.</summary>
    void Configure(IPluginBuilder builder);
}
