using Microsoft.Extensions.DependencyInjection;

namespace PluginProxy.Abstractions;

/// <summary>
/// What a plugin uses to announce what it provides. The host builds every announced type through dependency injection,
/// with the host's services (<c>ILogger&lt;T&gt;</c>, <see cref="IServerConnector"/>) and those the plugin adds to <see cref="Services"/>.
/// </summary>
public interface IPluginBuilder
{
    /// <summary>The plugin's name (its folder and assembly name).</summary>
    string PluginName { get; }

    /// <summary>The plugin's own services; they live and die with this version of the plugin.</summary>
    IServiceCollection Services { get; }

    /// <summary>Provides a protocol supervisor that listeners name with <c>supervisor = "<paramref name="name"/>"</c>.</summary>
    IPluginBuilder AddSupervisor<TSupervisor>(string name) where TSupervisor : class, IProtocolSupervisor;

    /// <summary>Provides a flow analyzer that listeners name in <c>request_analyzers</c> or <c>response_analyzers</c>.</summary>
    IPluginBuilder AddAnalyzer<TAnalyzer>(string name) where TAnalyzer : class, IFlowAnalyzer;
}
