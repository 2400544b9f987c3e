using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using PluginProxy.Abstractions;

namespace PluginProxy.Host.Plugins;

/// <summary>
/// Checks, before loading, which SDK version a plugin assembly was built against. A plugin built against the same
/// major version and an equal or lower minor version loads; anything else would fail later with confusing cast errors,
/// so it is refused now with both versions named.
/// </summary>
internal static class SdkCompatibility
{
    public static readonly AssemblyName HostSdk = typeof(IPlugin).Assembly.GetName();

    /// <summary>Returns the SDK version the assembly references, or null when it references none.</summary>
    public static Version? ReadReferencedSdkVersion(string assemblyPath)
    {
        using FileStream stream = File.OpenRead(assemblyPath);
        using var pe = new PEReader(stream);
        if (!pe.HasMetadata)
        {
            throw new BadImageFormatException("not a .NET assembly");
        }

        MetadataReader metadata = pe.GetMetadataReader();
        foreach (AssemblyReferenceHandle handle in metadata.AssemblyReferences)
        {
            AssemblyReference reference = metadata.GetAssemblyReference(handle);
            if (metadata.StringComparer.Equals(reference.Name, HostSdk.Name!))
            {
                return reference.Version;
            }
        }

        return null;
    }

    /// <summary>Null when compatible, else the reason it is not.</summary>
    public static string? Check(Version? pluginSdk)
    {
        Version host = HostSdk.Version!;
        if (pluginSdk is null)
        {
            return $"it does not reference {HostSdk.Name}; a plugin must implement {typeof(IPlugin).FullName}";
        }

        if (pluginSdk.Major != host.Major || pluginSdk.Minor > host.Minor)
        {
            return $"it was built against {HostSdk.Name} {pluginSdk.ToString(2)}, but this host provides {HostSdk.Name} {host.ToString(2)}; " +
                   $"rebuild the plugin against {host.Major}.x (at most {host.ToString(2)})";
        }

        return null;
    }
}
