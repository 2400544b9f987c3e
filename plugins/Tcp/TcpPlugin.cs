using PluginProxy.Abstractions;

namespace PluginProxy.Tcp;

/// <summary>Provides the <c>tcp</c> supervisor.</summary>
public sealed class TcpPlugin : IPlugin
{
    /// <inheritdoc/>
    public void Configure(IPluginBuilder builder) => builder.AddSupervisor<TcpSupervisor>("tcp");
}
