using System.Collections.Immutable;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Emit;
using Microsoft.CodeAnalysis.Scripting;
using PluginProxy.Abstractions;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Scripting;

/// <summary>
/// Compiles generated script source with Roslyn into an assembly image (portable PDB embedded, so exceptions name the
/// .csx file and line). Scripts see the PluginProxy SDK, the Microsoft.Extensions abstractions it uses, and the .NET base
/// library: nothing of the host. <c>Microsoft.CSharp</c> is left out on purpose: <c>dynamic</c> pins collectible contexts.
/// </summary>
internal static class ScriptCompiler
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(BuildReferences);

    /// <summary>Identifies what compiled output depends on besides the sources: the SDK build and the compiler.</summary>
    public static readonly string Toolchain =
        $"sdk={typeof(IPlugin).Assembly.ManifestModule.ModuleVersionId};roslyn={typeof(CSharpCompilation).Assembly.GetName().Version};gen=2";

    public static byte[]? Compile(string assemblyName, string source, string mainPath, List<ConfigError> errors)
    {
        SyntaxTree tree = CSharpSyntaxTree.ParseText(source,
            CSharpParseOptions.Default.WithKind(SourceCodeKind.Script).WithLanguageVersion(LanguageVersion.Latest), mainPath, System.Text.Encoding.UTF8);
        var options = new CSharpCompilationOptions(
            OutputKind.DynamicallyLinkedLibrary,
            optimizationLevel: OptimizationLevel.Release,
            nullableContextOptions: NullableContextOptions.Disable,
            // The scripting resolver, with nothing to resolve: #r and #load are handled (and refused) before this point.
            metadataReferenceResolver: ScriptMetadataResolver.Default.WithSearchPaths(),
            sourceReferenceResolver: null,
            // A script is small: compiling it on the calling thread alone is as fast, and does not wait for thread-pool
            // threads that a loaded proxy may be slow to hand out.
            concurrentBuild: false);
        CSharpCompilation compilation = CSharpCompilation.CreateScriptCompilation(assemblyName, tree, References.Value, options);
        using var pe = new MemoryStream();
        EmitResult result = compilation.Emit(pe, options: new EmitOptions(debugInformationFormat: DebugInformationFormat.Embedded));
        if (!result.Success)
        {
            foreach (Diagnostic diagnostic in result.Diagnostics)
            {
                if (diagnostic.Severity == DiagnosticSeverity.Error)
                {
                    errors.Add(ToError(diagnostic));
                }
            }

            return null;
        }

        return pe.ToArray();
    }

    /// <summary>
    /// Compiles a small rule a few times and throws the result away: the compiler's code is then compiled (and tiered up)
    /// by the JIT, so the first script edit of a process compiles in tens of milliseconds instead of seconds.
    /// </summary>
    /// <returns>The errors of the last compile (none: the warm-up rule compiles).</returns>
    public static List<ConfigError> WarmUp()
    {
        var errors = new List<ConfigError>();
        for (int i = 0; i < 3; i++)
        {
            errors.Clear();
            string source = $"public sealed class {ScriptGenerator.ClassName} : PluginProxy.Abstractions.Scripting.Rule\n{{\n" +
                            $"protected override async System.Threading.Tasks.ValueTask RunAsync()\n{{\nResponse.Headers.Set(\"X-Warm-Up\", \"{i}\");\n}}\n}}\n";
            Compile("pluginproxy_warm_up_" + i, source, "warm-up.csx", errors);
        }

        return errors;
    }

    /// <summary><c>file.csx:line:column: error CSxxxx: message</c>, positions mapped back to the original file.</summary>
    public static ConfigError ToError(Diagnostic diagnostic)
    {
        FileLinePositionSpan span = diagnostic.Location.GetMappedLineSpan();
        string file = span.HasMappedPath || span.Path.Length > 0 ? span.Path : "script";
        var spot = new SourceSpot(file, span.StartLinePosition.Line + 1, span.StartLinePosition.Character + 1);
        return new ConfigError(spot, $"error {diagnostic.Id}: {diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}");
    }

    private static ImmutableArray<MetadataReference> BuildReferences()
    {
        string runtime = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var references = new List<MetadataReference>();
        foreach (string dll in Directory.EnumerateFiles(runtime, "*.dll"))
        {
            string name = Path.GetFileNameWithoutExtension(dll);
            if (name is "Microsoft.CSharp" || name.StartsWith("Microsoft.VisualBasic", StringComparison.Ordinal) || !IsManaged(dll))
            {
                continue;
            }

            references.Add(MetadataReference.CreateFromFile(dll));
        }

        foreach (Assembly assembly in new[]
                 {
                     typeof(IPlugin).Assembly,
                     typeof(Microsoft.Extensions.Logging.ILogger).Assembly,
                     typeof(Microsoft.Extensions.DependencyInjection.IServiceCollection).Assembly,
                 })
        {
            references.Add(MetadataReference.CreateFromFile(assembly.Location));
        }

        return [.. references];
    }

    private static bool IsManaged(string path)
    {
        try
        {
            AssemblyName.GetAssemblyName(path);
            return true;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }
}
