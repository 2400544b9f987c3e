using System.Reflection;
using PluginProxy.Abstractions;

namespace VersionStamp;

/// <summary>Provides <c>version_stamp</c>: a response analyzer that tells the client which build of this plugin served it.</summary>
public sealed class VersionStampPlugin : IPlugin
{
    public void Configure(IPluginBuilder builder) => builder.AddAnalyzer<Stamp>("version_stamp");
}

/// <summary>Sets <c>X-Plugin-Version</c> on every response to this assembly's informational version.</summary>
public sealed class Stamp : IFlowAnalyzer
{
    private static readonly string Version =
        typeof(Stamp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "?";

    public ValueTask<AnalyzerVerdict> AnalyzeAsync(ProxyStream stream, Channel channel, CancellationToken cancellationToken)
    {
        if (stream.Http is { HasResponse: true } http)
        {
            http.Response.Headers.Set("X-Plugin-Version", Version);
        }

        return ValueTask.FromResult(AnalyzerVerdict.Continue);
    }
}
