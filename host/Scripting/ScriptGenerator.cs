using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Scripting;

/// <summary>
/// Turns a script (and what it <c>#load</c>s) into one class: a rule's top-level statements become the body of
/// <c>Rule.RunAsync</c>, run per request; a factory's become <c>ScriptFactory.CreateAsync</c>, run once. Top-level
/// methods, types and <c>static</c> fields become members of the class. Every piece is preceded by a <c>#line</c>
/// directive and keeps its columns, so that compiler errors and exception stack traces name the original file,
/// line and column. Each top-level statement is also preceded by a hidden store of where it is written
/// (<see cref="FileField"/>, <see cref="LineField"/>, <see cref="EndLineField"/>): in optimized code the runtime cannot
/// always map a frame back to a line (a call after <c>??</c> or <c>?:</c> maps to a hidden sequence point), and a rule
/// that throws must still say where.
/// </summary>
internal static class ScriptGenerator
{
    public const string ClassName = "__Script";

    /// <summary>The field of a rule instance holding the file of the top-level statement running now.</summary>
    public const string FileField = "__file";

    /// <summary>The field holding the first line of that statement.</summary>
    public const string LineField = "__line";

    /// <summary>The field holding the last line of that statement.</summary>
    public const string EndLineField = "__endLine";

    private static readonly CSharpParseOptions ScriptParse = CSharpParseOptions.Default.WithKind(SourceCodeKind.Script).WithLanguageVersion(LanguageVersion.Latest);

    /// <summary>Namespaces every script can use without a using directive.</summary>
    public static readonly string[] ImplicitUsings =
    [
        "System", "System.Collections.Generic", "System.Linq", "System.Net", "System.Text", "System.Threading",
        "System.Threading.Tasks", "PluginProxy.Abstractions", "PluginProxy.Abstractions.Http", "PluginProxy.Abstractions.Scripting",
        "PluginProxy.Abstractions.Tables", "PluginProxy.Abstractions.Stores",
    ];

    public static (string? Source, ScriptKind Kind) Generate(ScriptSources sources, List<ConfigError> errors)
    {
        var usings = new StringBuilder();
        var members = new StringBuilder();
        var statements = new StringBuilder();
        ScriptKind kind = ScriptKind.Rule;
        int before = errors.Count;
        foreach (ScriptFile file in sources.Files)
        {
            SyntaxTree tree = CSharpSyntaxTree.ParseText(file.Text, ScriptParse, file.FullPath);
            foreach (Diagnostic diagnostic in tree.GetDiagnostics())
            {
                if (diagnostic.Severity == DiagnosticSeverity.Error)
                {
                    errors.Add(ScriptCompiler.ToError(diagnostic));
                }
            }

            var root = (CompilationUnitSyntax)tree.GetRoot();
            foreach (UsingDirectiveSyntax directive in root.Usings)
            {
                Emit(usings, directive, file.FullPath);
            }

            foreach (MemberDeclarationSyntax member in root.Members)
            {
                switch (member)
                {
                    case GlobalStatementSyntax global:
                        EmitMarker(statements, global.Statement, file.FullPath);
                        Emit(statements, global.Statement, file.FullPath);
                        if (file.FullPath == sources.MainPath && ReturnsValue(global.Statement))
                        {
                            kind = ScriptKind.Factory;
                        }

                        break;
                    case FieldDeclarationSyntax field when field.Modifiers.Count == 0:
                        // A top-level "var x = ...;" is a variable of each run, as in a script body.
                        EmitMarker(statements, field, file.FullPath);
                        Emit(statements, field, file.FullPath);
                        break;
                    default:
                        Emit(members, member, file.FullPath);
                        break;
                }
            }
        }

        if (errors.Count > before)
        {
            return (null, kind);
        }

        var source = new StringBuilder();
        source.Append("#pragma warning disable CS1998, CS0162\n");
        foreach (string ns in ImplicitUsings)
        {
            source.Append("using ").Append(ns).Append(";\n");
        }

        source.Append(usings);
        source.Append("#line hidden\n");
        source.Append("public sealed class ").Append(ClassName).Append(" : ")
            .Append(kind == ScriptKind.Rule ? "PluginProxy.Abstractions.Scripting.Rule" : "PluginProxy.Abstractions.Scripting.ScriptFactory").Append("\n{\n");
        source.Append("#line hidden\n");
        source.Append("public string ").Append(FileField).Append("; public int ").Append(LineField).Append("; public int ").Append(EndLineField).Append(";\n");
        source.Append(members);
        source.Append("#line hidden\n");
        source.Append(kind == ScriptKind.Rule
            ? "protected override async System.Threading.Tasks.ValueTask RunAsync()\n{\n"
            : "protected override async System.Threading.Tasks.ValueTask<object> CreateAsync()\n{\n");
        source.Append(statements);
        source.Append("#line hidden\n");
        source.Append(kind == ScriptKind.Rule ? "}\n}\n" : "return null;\n}\n}\n");
        return (source.ToString(), kind);
    }

    /// <summary>A <c>return expression;</c> at the top level of the script (not inside a lambda or local function).</summary>
    private static bool ReturnsValue(StatementSyntax statement) =>
        statement.DescendantNodesAndSelf(n => n is not (AnonymousFunctionExpressionSyntax or LocalFunctionStatementSyntax))
            .OfType<ReturnStatementSyntax>().Any(r => r.Expression is not null);

    /// <summary>Records, in hidden code before a top-level statement, where the statement is written (three stores per run).</summary>
    private static void EmitMarker(StringBuilder target, SyntaxNode node, string path)
    {
        FileLinePositionSpan span = node.GetLocation().GetLineSpan();
        target.Append("#line hidden\n")
            .Append(FileField).Append(" = ").Append(SymbolDisplay.FormatLiteral(path, quote: true)).Append("; ")
            .Append(LineField).Append(" = ").Append(span.StartLinePosition.Line + 1).Append("; ")
            .Append(EndLineField).Append(" = ").Append(span.EndLinePosition.Line + 1).Append(";\n");
    }

    /// <summary>Writes <paramref name="node"/> after a <c>#line</c> directive, padded to its original column.</summary>
    private static void Emit(StringBuilder target, SyntaxNode node, string path)
    {
        FileLinePositionSpan span = node.GetLocation().GetLineSpan();
        target.Append("#line ").Append(span.StartLinePosition.Line + 1).Append(" \"").Append(path.Replace("\\", "\\\\").Replace("\"", "\\\"")).Append("\"\n");
        target.Append(' ', span.StartLinePosition.Character);
        target.Append(node.ToString());
        target.Append('\n');
    }
}
