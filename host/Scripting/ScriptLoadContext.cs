using System.Reflection;
using System.Runtime.Loader;

namespace PluginProxy.Host.Scripting;

/// <summary>
/// The collectible context one compiled script version lives in. It loads nothing itself: the SDK and the base library
/// come from the default context, so scripts and host agree on every shared type.
/// </summary>
internal sealed class ScriptLoadContext(string name) : AssemblyLoadContext(name, isCollectible: true)
{
    protected override Assembly? Load(AssemblyName assemblyName) => null;
}
