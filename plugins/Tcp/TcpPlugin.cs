using PluginProxy.Abstractions;

namespace PluginProxy.Tcp;

/// <summary>Provides the <c>tcp</c> supervisor and the <c>tls_sni</c> analyzer (SNI routing without termination).</summary>
public sealed class TcpPlugin : IPlugin
{
    /// <inheritdoc/>
    public void Configure(IPluginBuilder builder) => builder
        .AddSupervisor<TcpSupervisor>("tcp")
        .AddAnalyzer<Tls.TlsSniAnalyzer>("tls_sni");
}
