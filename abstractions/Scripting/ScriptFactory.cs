namespace PluginProxy.Abstractions.Scripting;

/// <summary>
/// What a script that ends by returning an object runs against: the script's body becomes the body of
/// <see cref="CreateAsync"/>, run once when the script is loaded, and the object it returns (a flow analyzer or a
/// protocol supervisor) is used exactly like one from a plugin.
/// </summary>
public abstract class ScriptFactory
{
    /// <summary>The host's services (<c>IServerConnector</c>, <c>ILoggerFactory</c>, <c>IAccessLog</c>, <c>IMeterFactory</c>, <c>IStickTables</c>, <c>IStores</c>), for the object the script builds.</summary>
    public IServiceProvider Services { get; private set; } = EmptyServices.Instance;

    /// <summary>The shared stores (<c>[[store]]</c>) for the object the script builds; an empty list on a host without them.</summary>
    public Stores.IStores Stores => Services.GetService(typeof(Stores.IStores)) as Stores.IStores ?? NoStores.Instance;

    /// <summary>The script's body. Generated from the script; not for scripts to call.</summary>
    protected abstract ValueTask<object?> CreateAsync();

    /// <summary>For the host: runs the script's body once.</summary>
    public ValueTask<object?> BuildAsync(IServiceProvider services)
    {
        Services = services;
        return CreateAsync();
    }

    private sealed class EmptyServices : IServiceProvider
    {
        public static readonly EmptyServices Instance = new();

        public object? GetService(Type serviceType) => null;
    }
}
