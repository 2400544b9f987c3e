using System.Security.Cryptography;
using System.Text;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Scripting;

/// <summary>One file of a script: the main .csx or one it <c>#load</c>s.</summary>
internal sealed record ScriptFile(string FullPath, string Text);

/// <summary>
/// A script and every file it <c>#load</c>s, in load order (loaded files first, the main file last), read from disk.
/// Directives are found by a plain text scan so that a cache hit needs no compiler at all; the compiler checks them again.
/// </summary>
internal sealed class ScriptSources
{
    private ScriptSources(string mainPath, List<ScriptFile> files)
    {
        MainPath = mainPath;
        Files = files;
    }

    public string MainPath { get; }

    public IReadOnlyList<ScriptFile> Files { get; }

    /// <summary>Reads <paramref name="mainPath"/> and what it loads; null (with errors) when a file is missing or a directive is refused.</summary>
    public static ScriptSources? Read(string mainPath, SourceSpot namedAt, List<ConfigError> errors)
    {
        var files = new List<ScriptFile>();
        var visiting = new HashSet<string>(StringComparer.Ordinal);
        var done = new HashSet<string>(StringComparer.Ordinal);
        int before = errors.Count;
        Visit(mainPath, namedAt, files, visiting, done, errors, isMain: true);
        return errors.Count > before ? null : new ScriptSources(mainPath, files);
    }

    private static void Visit(string path, SourceSpot from, List<ScriptFile> files, HashSet<string> visiting, HashSet<string> done, List<ConfigError> errors, bool isMain)
    {
        if (done.Contains(path))
        {
            return;
        }

        if (!visiting.Add(path))
        {
            errors.Add(new ConfigError(from, $"#load cycle: {path} is already being loaded"));
            return;
        }

        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            errors.Add(new ConfigError(from, isMain
                ? $"script {path} cannot be read: {ex.Message}"
                : $"#load \"{path}\": the file cannot be read: {ex.Message}"));
            return;
        }

        foreach (Directive directive in ScanDirectives(text, path))
        {
            if (directive.Kind == "r")
            {
                errors.Add(new ConfigError(directive.Spot, $"error PP0001: #r \"{directive.Argument}\" is refused: scripts compile against the PluginProxy SDK and the .NET base library only"));
                continue;
            }

            string loaded = Path.GetFullPath(directive.Argument, Path.GetDirectoryName(path)!);
            Visit(loaded, directive.Spot, files, visiting, done, errors, isMain: false);
        }

        visiting.Remove(path);
        done.Add(path);
        files.Add(new ScriptFile(path, text));
    }

    private readonly record struct Directive(string Kind, string Argument, SourceSpot Spot);

    /// <summary>The <c>#load</c> and <c>#r</c> lines at the top of a script (directives may only come before any code).</summary>
    private static IEnumerable<Directive> ScanDirectives(string text, string path)
    {
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].TrimEnd('\r');
            string trimmed = line.TrimStart();
            if (trimmed.Length == 0 || trimmed.StartsWith("//", StringComparison.Ordinal))
            {
                continue;
            }

            string? kind = trimmed.StartsWith("#load", StringComparison.Ordinal) ? "load" : trimmed.StartsWith("#r", StringComparison.Ordinal) ? "r" : null;
            if (kind is null)
            {
                yield break;
            }

            int open = trimmed.IndexOf('"');
            int close = open < 0 ? -1 : trimmed.IndexOf('"', open + 1);
            if (close < 0)
            {
                // The compiler reports the malformed directive with its position.
                continue;
            }

            int column = line.Length - trimmed.Length + 1;
            yield return new Directive(kind, trimmed[(open + 1)..close], new SourceSpot(path, i + 1, column));
        }
    }

    /// <summary>A hash of everything the compiled output depends on: the texts and paths, the SDK and the compiler.</summary>
    public string CacheKey(string toolchain)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(toolchain));
        foreach (ScriptFile file in Files)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(file.FullPath));
            hash.AppendData([0]);
            hash.AppendData(Encoding.UTF8.GetBytes(file.Text));
            hash.AppendData([0]);
        }

        return Convert.ToHexString(hash.GetHashAndReset())[..32].ToLowerInvariant();
    }
}
