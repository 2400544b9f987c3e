using Microsoft.Extensions.DependencyInjection;
using PluginProxy.Abstractions;

namespace PluginProxy.Host.Plugins;

/// <summary>Collects what one plugin announces in <see cref="IPlugin.Configure"/>.</summary>
internal sealed class PluginBuilder(string pluginName, IServiceCollection services) : IPluginBuilder
{
    public string PluginName { get; } = pluginName;

    public IServiceCollection Services { get; } = services;

    public List<(string Name, Type Type)> Supervisors { get; } = [];

    public List<(string Name, Type Type)> Analyzers { get; } = [];

    public List<(string Name, Type Type)> HealthProbes { get; } = [];

    public IPluginBuilder AddSupervisor<TSupervisor>(string name) where TSupervisor : class, IProtocolSupervisor
    {
        Add(Supervisors, name, typeof(TSupervisor), "supervisor");
        return this;
    }

    public IPluginBuilder AddAnalyzer<TAnalyzer>(string name) where TAnalyzer : class, IFlowAnalyzer
    {
        Add(Analyzers, name, typeof(TAnalyzer), "analyzer");
        return this;
    }

    public IPluginBuilder AddHealthProbe<TProbe>(string kind) where TProbe : class, IHealthProbe
    {
        Add(HealthProbes, kind, typeof(TProbe), "health probe", example: "http");
        return this;
    }

    private void Add(List<(string Name, Type Type)> list, string name, Type type, string what, string? example = null)
    {
        if (string.IsNullOrWhiteSpace(name) || name.EndsWith(".csx", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"the {what} name \"{name}\" is not valid: use a plain name such as \"{example ?? "my_" + what}\"");
        }

        if (list.Exists(e => e.Name == name))
        {
            throw new ArgumentException($"the {what} \"{name}\" is announced twice");
        }

        list.Add((name, type));
    }
}
