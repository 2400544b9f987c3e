using Microsoft.Extensions.DependencyInjection;
using PluginProxy.Abstractions;

namespace RateLimit;

/// <summary>
/// The plugin's entry point: provides the <c>rate_limit</c> analyzer. The host finds this class, calls
/// <see cref="Configure"/>, builds what it announced, then calls <see cref="StartAsync"/>; before this version is
/// unloaded (a new build replaced it, its folder was removed, the proxy stops) it calls <see cref="StopAsync"/>.
/// </summary>
public sealed class RateLimitPlugin : IPlugin
{
    private ClientBuckets? _buckets;

    public void Configure(IPluginBuilder builder)
    {
        builder.Services.AddSingleton<ClientBuckets>();
        builder.AddAnalyzer<RateLimiter>("rate_limit");
    }

    public ValueTask StartAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        // Forget idle clients now and then. The timer is stopped in StopAsync: a timer left running would keep this
        // plugin's code in memory after unload (the host would report it as a leak).
        _buckets = services.GetRequiredService<ClientBuckets>();
        _buckets.StartSweeping(TimeSpan.FromSeconds(10));
        return ValueTask.CompletedTask;
    }

    public ValueTask StopAsync(CancellationToken cancellationToken)
    {
        _buckets?.StopSweeping();
        return ValueTask.CompletedTask;
    }
}
