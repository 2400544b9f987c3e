using PluginProxy.Abstractions;

namespace PluginProxy.Https;

/// <summary>Provides the <c>https</c> supervisor.</summary>
public sealed class HttpsPlugin : IPlugin
{
    /// <inheritdoc/>
    public void Configure(IPluginBuilder builder) => builder.AddSupervisor<HttpsSupervisor>("https");
}
