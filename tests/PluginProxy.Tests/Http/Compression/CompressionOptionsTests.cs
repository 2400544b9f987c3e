using Microsoft.Extensions.Logging.Abstractions;
using PluginProxy.Host;
using PluginProxy.Host.Configuration;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Http.Compression;

/// <summary>The <c>compress</c> analyzer's listener keys: each wrong value refuses the configuration at its file:line:column.</summary>
public class CompressionOptionsTests
{
    private static (int Line, int Column) Find(string path, string text)
    {
        string[] lines = File.ReadAllLines(path);
        int line = Array.FindIndex(lines, l => l.Contains(text, StringComparison.Ordinal));
        return (line + 1, lines[line].IndexOf(text, StringComparison.Ordinal) + 1);
    }

    private static async Task<(string Path, IReadOnlyList<string> Problems)> RefusedAsync(TempDirectory directory, string listenerExtra)
    {
        string path = directory.Write("proxy.toml", HttpConfig.For("127.0.0.1:9", listenerExtra: "response_analyzers = [\"compress\"]\n" + listenerExtra));
        var error = await Assert.ThrowsAsync<StartupException>(() => ProxyHost.BuildAsync(ConfigLoader.Load(path), NullLoggerFactory.Instance, new CapturedAccessLog()));
        return (path, error.Problems);
    }

    [Fact]
    public async Task AnUnknownAlgorithm_IsRefusedAtItsPlace()
    {
        using var directory = new TempDirectory();
        (string path, IReadOnlyList<string> problems) = await RefusedAsync(directory, "compress_algorithms = [\"gzip\", \"zstd\"]");
        var (line, column) = Find(path, "\"zstd\"");
        Assert.Equal($"{path}:{line}:{column}: unknown compression algorithm \"zstd\"; known algorithms are: \"br\", \"gzip\"", Assert.Single(problems));
    }

    [Fact]
    public async Task ARepeatedOrEmptyAlgorithmList_IsRefused()
    {
        using var directory = new TempDirectory();
        (string path, IReadOnlyList<string> problems) = await RefusedAsync(directory, "compress_algorithms = [\"br\", \"br\"]");
        var (line, _) = Find(path, "compress_algorithms");
        Assert.StartsWith($"{path}:{line}:", Assert.Single(problems), StringComparison.Ordinal);
        Assert.EndsWith("\"br\" is listed twice in `compress_algorithms`", problems[0], StringComparison.Ordinal);

        (path, problems) = await RefusedAsync(directory, "compress_algorithms = []");
        (line, _) = Find(path, "compress_algorithms");
        Assert.StartsWith($"{path}:{line}:", Assert.Single(problems), StringComparison.Ordinal);
        Assert.EndsWith("`compress_algorithms` must name at least one algorithm: \"br\", \"gzip\"", problems[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABadLevel_OrSize_OrAMisspeltKey_IsRefusedAtItsPlace()
    {
        using var directory = new TempDirectory();
        (string path, IReadOnlyList<string> problems) = await RefusedAsync(directory, "compress_level = \"max\"\ncompress_min_size = \"big\"\ncompress_size = 3");

        var (levelLine, levelColumn) = Find(path, "\"max\"");
        var (sizeLine, sizeColumn) = Find(path, "\"big\"");
        var (typoLine, _) = Find(path, "compress_size");
        Assert.Equal(3, problems.Count);
        Assert.Contains($"{path}:{levelLine}:{levelColumn}: `compress_level` \"max\" is unknown; use \"fastest\", \"optimal\"", problems);
        Assert.Contains(problems, p => p.StartsWith($"{path}:{sizeLine}:{sizeColumn}: `compress_min_size`: \"big\" is not a size", StringComparison.Ordinal));
        Assert.Contains($"{path}:{typoLine}:1: unknown key `compress_size` in listener \"web\"; did you mean `compress_types`?", problems);
    }

    [Fact]
    public async Task AMediaTypeWithoutASubtype_IsRefusedAtItsPlace()
    {
        using var directory = new TempDirectory();
        (string path, IReadOnlyList<string> problems) = await RefusedAsync(directory, "compress_types = [\"text/html\", \"html\", \"*/*\"]");

        var (line, column) = Find(path, "\"html\"");
        var (_, wildColumn) = Find(path, "\"*/*\"");
        Assert.Equal(2, problems.Count);
        Assert.Equal($"{path}:{line}:{column}: \"html\" is not a media type; write it as \"type/subtype\" (\"text/html\") or \"type/*\" (\"text/*\"), without parameters", problems[0]);
        Assert.StartsWith($"{path}:{line}:{wildColumn}: \"*/*\" is not a media type", problems[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheKeys_AreUnknown_WithoutTheAnalyzer()
    {
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", HttpConfig.For("127.0.0.1:9", listenerExtra: "compress_level = \"optimal\""));
        var error = await Assert.ThrowsAsync<StartupException>(() => ProxyHost.BuildAsync(ConfigLoader.Load(path), NullLoggerFactory.Instance, new CapturedAccessLog()));
        var (line, _) = Find(path, "compress_level");
        Assert.StartsWith($"{path}:{line}:1: unknown key `compress_level` in listener \"web\"", Assert.Single(error.Problems), StringComparison.Ordinal);
    }
}
