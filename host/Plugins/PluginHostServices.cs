using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;

namespace PluginProxy.Host.Plugins;

/// <summary>The host services every plugin may ask for by injection. Each plugin version gets its own provider built from these.</summary>
internal sealed class PluginHostServices(ILoggerFactory loggerFactory, IServerConnector connector, IAccessLog accessLog)
{
    public ILoggerFactory LoggerFactory { get; } = loggerFactory;

    public IServerConnector Connector { get; } = connector;

    public IAccessLog AccessLog { get; } = accessLog;

    public void AddTo(IServiceCollection services)
    {
        services.AddSingleton(LoggerFactory);
        services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        services.AddSingleton(Connector);
        services.AddSingleton(AccessLog);
        // Each version gets its own registrations with the process's one heartbeat; the provider disposes them at unload.
        services.AddSingleton<IHeartbeat>(_ => Heartbeat.Shared.Open(LoggerFactory.CreateLogger("PluginProxy.Heartbeat")));
    }
}
