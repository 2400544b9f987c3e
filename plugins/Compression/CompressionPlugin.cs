using PluginProxy.Abstractions;

namespace PluginProxy.Compression;

/// <summary>Provides the <c>compress</c> response analyzer (<see cref="CompressAnalyzer"/>).</summary>
public sealed class CompressionPlugin : IPlugin
{
    /// <inheritdoc/>
    public void Configure(IPluginBuilder builder) => builder.AddAnalyzer<CompressAnalyzer>("compress");
}
