namespace PluginProxy.Abstractions;

/// <summary>The backends of one configuration version.</summary>
public interface IBackendCatalog
{
    /// <summary>Every backend, in configuration order.</summary>
    IReadOnlyList<IBackend> All { get; }

    /// <summary>The backend named <paramref name="name"/> (case-sensitive), or null.</summary>
    IBackend? Find(string name);
}
