using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using PluginProxy.Abstractions.Http;

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

    /// <summary>
    /// Provides the health checks of backends whose <c>check</c> says <c>kind = "<paramref name="kind"/>"</c> (the host
    /// knows <c>"http"</c>): an <see cref="IHealthProbe"/>, built once, through dependency injection, when the plugin loads.
    /// Like supervisor and analyzer names, a kind is provided by one plugin at most. (SDK 2.1)
    /// </summary>
    IPluginBuilder AddHealthProbe<TProbe>(string kind) where TProbe : class, IHealthProbe;

    /// <summary>
    /// Provides an <see cref="IHttpRequestFilter"/> that listeners name in <c>request_analyzers</c>: it runs there as a
    /// flow analyzer (<see cref="RequestFilterAnalyzer{TFilter}"/>). <typeparamref name="TFilter"/> is built once, through
    /// dependency injection; one type that implements several phases is one instance.
    /// </summary>
    IPluginBuilder AddRequestFilter<TFilter>(string name) where TFilter : class, IHttpRequestFilter
    {
        Services.TryAddSingleton<TFilter>();
        return AddAnalyzer<RequestFilterAnalyzer<TFilter>>(name);
    }

    /// <summary>
    /// Provides an <see cref="IHttpUpstreamSelector"/> that listeners name in <c>request_analyzers</c>: it runs there as a
    /// flow analyzer (<see cref="UpstreamSelectorAnalyzer{TSelector}"/>).
    /// </summary>
    IPluginBuilder AddUpstreamSelector<TSelector>(string name) where TSelector : class, IHttpUpstreamSelector
    {
        Services.TryAddSingleton<TSelector>();
        return AddAnalyzer<UpstreamSelectorAnalyzer<TSelector>>(name);
    }

    /// <summary>
    /// Provides an <see cref="IHttpResponseFilter"/> that listeners name in <c>response_analyzers</c> or
    /// <c>after_response_analyzers</c>: it runs there as a flow analyzer (<see cref="ResponseFilterAnalyzer{TFilter}"/>).
    /// </summary>
    IPluginBuilder AddResponseFilter<TFilter>(string name) where TFilter : class, IHttpResponseFilter
    {
        Services.TryAddSingleton<TFilter>();
        return AddAnalyzer<ResponseFilterAnalyzer<TFilter>>(name);
    }

    /// <summary>
    /// Provides an <see cref="IHttpLogger"/> that listeners name in <c>request_analyzers</c> or
    /// <c>after_response_analyzers</c>: where it is listed it subscribes the stream, and it is called once the stream ended
    /// (<see cref="HttpLoggerAnalyzer{TLogger}"/>).
    /// </summary>
    IPluginBuilder AddHttpLogger<TLogger>(string name) where TLogger : class, IHttpLogger
    {
        Services.TryAddSingleton<TLogger>();
        return AddAnalyzer<HttpLoggerAnalyzer<TLogger>>(name);
    }
}
