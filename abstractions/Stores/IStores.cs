namespace PluginProxy.Abstractions.Stores;

/// <summary>
/// The <c>[[store]]</c>s of the running configuration, by name: state shared between the instances of the proxy that
/// name the same store. Ask for it by injection; scripts reach it as <c>Stores</c>.
/// </summary>
public interface IStores
{
    /// <summary>The store named <paramref name="name"/>, or null when the configuration has none of that name.</summary>
    ISharedStore? Find(string name);

    /// <summary>
    /// Every store, in configuration order. The same list object until a reload changes the configuration: a plugin may
    /// keep what it found in it and compare the list by reference to know when to look again.
    /// </summary>
    IReadOnlyList<ISharedStore> All { get; }
}
