using PluginProxy.Abstractions;

namespace MyPlugin;

/// <summary>The plugin's entry point: announces what it provides, by the names proxy.toml uses.</summary>
public sealed class MyPluginPlugin : IPlugin
{
    public void Configure(IPluginBuilder builder)
    {
        builder.AddAnalyzer<PrivatePaths>("myplugin_private_paths");
    }

    public ValueTask StartAsync(IServiceProvider services, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask StopAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
