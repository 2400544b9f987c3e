using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using PluginProxy.Abstractions;

namespace PluginProxy.Tests.Infrastructure;

/// <summary>
/// Builds plugin folders (<c>Name/Name.dll</c> and dependencies) from C# source at test time with Roslyn, so tests can
/// make a first version, a changed build, a broken one, or two plugins with conflicting dependencies.
/// </summary>
internal static class PluginFactory
{
    private static readonly Lazy<List<MetadataReference>> Framework = new(() =>
    {
        string runtime = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var references = new List<MetadataReference>();
        foreach (string dll in Directory.EnumerateFiles(runtime, "*.dll"))
        {
            try
            {
                AssemblyName.GetAssemblyName(dll);
                references.Add(MetadataReference.CreateFromFile(dll));
            }
            catch (BadImageFormatException)
            {
                // A native library of the runtime.
            }
        }

        references.Add(MetadataReference.CreateFromFile(typeof(Microsoft.Extensions.Logging.ILogger).Assembly.Location));
        references.Add(MetadataReference.CreateFromFile(typeof(Microsoft.Extensions.DependencyInjection.IServiceCollection).Assembly.Location));
        return references;
    });

    /// <summary>Compiles <paramref name="source"/> into <c>{folder}/{name}/{name}.dll</c> and returns that plugin folder.</summary>
    /// <param name="sdk">The SDK assembly to compile against (the real one by default).</param>
    /// <param name="dependencies">Other assemblies to reference and to copy next to the plugin.</param>
    public static string Build(string folder, string name, string source, string? sdk = null, params string[] dependencies)
    {
        string pluginFolder = Path.Combine(folder, name);
        Directory.CreateDirectory(pluginFolder);
        Compile(Path.Combine(pluginFolder, name + ".dll"), name, source, [sdk ?? typeof(IPlugin).Assembly.Location, .. dependencies]);
        foreach (string dependency in dependencies)
        {
            File.Copy(dependency, Path.Combine(pluginFolder, Path.GetFileName(dependency)), overwrite: true);
        }

        return pluginFolder;
    }

    /// <summary>Compiles a library (a dependency, or a stand-in SDK) and returns its path.</summary>
    public static string Library(string folder, string name, string source, params string[] references)
    {
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, name + ".dll");
        Compile(path, name, source, references);
        return path;
    }

    private static void Compile(string path, string assemblyName, string source, IEnumerable<string> references)
    {
        CSharpCompilation compilation = CSharpCompilation.Create(
            assemblyName,
            [CSharpSyntaxTree.ParseText(source)],
            [.. Framework.Value, .. references.Select(r => MetadataReference.CreateFromFile(r))],
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Disable));
        using var stream = new MemoryStream();
        var result = compilation.Emit(stream);
        if (!result.Success)
        {
            throw new InvalidOperationException("test plugin does not compile:\n" + string.Join("\n", result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        }

        File.WriteAllBytes(path, stream.ToArray());
    }

    /// <summary>
    /// A plugin providing supervisor <paramref name="supervisor"/> that greets with <c>{version}-hello</c> and echoes each
    /// line prefixed by <c>{version}:</c>; a line holding "boom" makes it throw. <paramref name="version"/> is a C# string
    /// expression; <paramref name="extra"/> adds members to the supervisor class.
    /// </summary>
    public static string GreeterSource(string version, string supervisor = "greeter", string extra = "") => $$"""
        using System;
        using System.Net.Sockets;
        using System.Text;
        using System.Threading.Tasks;
        using PluginProxy.Abstractions;

        public sealed class GreeterPlugin : IPlugin
        {
            public void Configure(IPluginBuilder builder) => builder.AddSupervisor<Greeter>("{{supervisor}}");
        }

        public sealed class Greeter : IProtocolSupervisor
        {
            private static string Version => {{version}};

            {{extra}}
            public async ValueTask RunAsync(ISession session)
            {
                Socket s = session.Connection.Socket;
                await s.SendAsync(Encoding.ASCII.GetBytes(Version + "-hello\n"), SocketFlags.None);
                var buffer = new byte[1024];
                int n;
                while ((n = await s.ReceiveAsync(buffer, SocketFlags.None)) > 0)
                {
                    string line = Encoding.ASCII.GetString(buffer, 0, n);
                    if (line.Contains("boom")) throw new InvalidOperationException("the greeter blew up");
                    await s.SendAsync(Encoding.ASCII.GetBytes(Version + ":" + line), SocketFlags.None);
                }
            }
        }
        """;

    /// <summary>A plugin providing analyzer <paramref name="analyzer"/> that sets request header <paramref name="header"/> to <paramref name="value"/>.</summary>
    public static string StampSource(string analyzer, string header, string value, string constructorBody = "") => $$"""
        using System.Threading;
        using System.Threading.Tasks;
        using PluginProxy.Abstractions;

        public sealed class StampPlugin : IPlugin
        {
            public void Configure(IPluginBuilder builder) => builder.AddAnalyzer<Stamp>("{{analyzer}}");
        }

        public sealed class Stamp : IFlowAnalyzer
        {
            public Stamp() { {{constructorBody}} }

            public ValueTask<AnalyzerVerdict> AnalyzeAsync(ProxyStream stream, Channel channel, CancellationToken cancellationToken)
            {
                if (stream.Http is { HasRequest: true } http)
                {
                    http.Request.Headers.Set("{{header}}", {{value}});
                }

                return ValueTask.FromResult(AnalyzerVerdict.Continue);
            }
        }
        """;
}
