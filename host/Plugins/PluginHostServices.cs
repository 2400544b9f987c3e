using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;

namespace PluginProxy.Host.Plugins;

/// <summary>The host services every plugin may ask for by injection (<c>ILogger&lt;T&gt;</c>, <see cref="IServerConnector"/>, <see cref="IAccessLog"/>, <see cref="IHeartbeat"/>, <see cref="System.Diagnostics.Metrics.IMeterFactory"/>, <see cref="Abstractions.Tables.IStickTables"/>). Each plugin version gets its own provider built from these.</summary>
internal sealed class PluginHostServices(ILoggerFactory loggerFactory, IServerConnector connector, IAccessLog accessLog, object meterScope, IRequestTracing? tracing = null)
{
    public ILoggerFactory LoggerFactory { get; } = loggerFactory;

    public IServerConnector Connector { get; } = connector;

    public IAccessLog AccessLog { get; } = accessLog;

    /// <summary>
    /// The stick tables of the running configuration (<see cref="Abstractions.Tables.IStickTables"/>), or null for none;
    /// declarative rules' counter conditions read them too (a condition on a table is false while there is none).
    /// </summary>
    public Abstractions.Tables.IStickTables? StickTables { get; set; }

    /// <summary>The shared stores of the running configuration (<see cref="Abstractions.Stores.IStores"/>), or null for none.</summary>
    public Abstractions.Stores.IStores? Stores { get; set; }

    public void AddTo(IServiceCollection services)
    {
        services.AddSingleton(LoggerFactory);
        services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        services.AddSingleton(Connector);
        services.AddSingleton(AccessLog);
        if (tracing is not null)
        {
            services.AddSingleton(tracing);
        }

        if (StickTables is not null)
        {
            services.AddSingleton(StickTables);
        }

        if (Stores is not null)
        {
            services.AddSingleton(Stores);
        }
        // Each version gets its own registrations with the process's one heartbeat; the provider disposes them at unload.
        // Meters a version creates carry the host's scope and go with the version (the provider disposes the factory).
        services.AddSingleton<System.Diagnostics.Metrics.IMeterFactory>(_ => new Metrics.ScopedMeterFactory(meterScope));
        services.AddSingleton<IHeartbeat>(_ => Heartbeat.Shared.Open(LoggerFactory.CreateLogger("PluginProxy.Heartbeat")));
    }
}
