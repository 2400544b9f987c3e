namespace PluginProxy.Abstractions.Scripting;

/// <summary>The stores of a host that has none, so that <c>Stores.Find(name)</c> in a script is null rather than a crash.</summary>
internal sealed class NoStores : Stores.IStores
{
    public static readonly NoStores Instance = new();

    public IReadOnlyList<Stores.ISharedStore> All => [];

    public Stores.ISharedStore? Find(string name) => null;
}
