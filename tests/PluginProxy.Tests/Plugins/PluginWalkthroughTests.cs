using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using PluginProxy.Host.Plugins;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Plugins;

/// <summary>
/// Follows the walkthrough of docs/plugins.md as a reader would: runs its shell steps (pack the SDK, the test kit and the
/// templates, dotnet new pluginproxy-analyzer, add an analyzer and its test, dotnet test, publish, copy into the plugins
/// folder of a live proxy), then applies its proxy.toml lines.
/// </summary>
public partial class PluginWalkthroughTests
{
    private static readonly string Doc = Path.Combine(RepoPaths.Root, "docs", "plugins.md");

    [GeneratedRegex(@"^```(?<info>\w+)\n(?<body>.*?)^```\n", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex CodeBlock();

    private static List<(string Info, string Body)> WalkthroughBlocks() => SectionBlocks("Walkthrough");

    private static List<(string Info, string Body)> SectionBlocks(string section)
    {
        string text = File.ReadAllText(Doc).ReplaceLineEndings("\n");
        int start = text.IndexOf($"\n## {section}\n", StringComparison.Ordinal);
        int end = text.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, $"docs/plugins.md has a {section} section");
        return CodeBlock().Matches(text[start..end]).Select(m => (m.Groups["info"].Value, m.Groups["body"].Value)).ToList();
    }

    [Fact]
    public void EveryCodeExcerptOfTheSample_IsVerbatimFromIt_AndTheSdkVersionIsCurrentEverywhere()
    {
        List<(string Info, string Body)> blocks = WalkthroughBlocks();
        List<(string Info, string Body)> sampleBlocks = SectionBlocks("The sample plugin: rate_limit");
        string sample = string.Join("\n", Directory.GetFiles(Path.Combine(RepoPaths.Root, "plugins", "RateLimit"), "*.cs")
            .Select(f => File.ReadAllText(f).ReplaceLineEndings("\n")));

        List<string> excerpts = sampleBlocks.Where(b => b.Info == "csharp").Select(b => b.Body).ToList();
        Assert.NotEmpty(excerpts);
        foreach (string excerpt in excerpts)
        {
            Assert.True(sample.Contains(excerpt, StringComparison.Ordinal), $"not in plugins/RateLimit:\n{excerpt}");
        }

        string sdkVersion = Regex.Match(File.ReadAllText(Path.Combine(RepoPaths.Root, "abstractions", "PluginProxy.Abstractions.csproj")), "<Version>(.*)</Version>").Groups[1].Value;
        string walkthrough = string.Join("\n", blocks.Select(b => b.Body));
        Assert.Contains($"Include=\"PluginProxy.Abstractions\" Version=\"{sdkVersion}\"", walkthrough);
        Assert.Contains($"PluginProxy.Templates.{sdkVersion}.nupkg", walkthrough);

        // The kit and the templates ship with the SDK, at its version, and the template's projects reference that version.
        foreach (string project in new[] { "testkit/PluginProxy.TestKit.csproj", "templates/PluginProxy.Templates.csproj" })
        {
            Assert.Contains($"<Version>{sdkVersion}</Version>", File.ReadAllText(Path.Combine(RepoPaths.Root, project)));
        }

        string template = Path.Combine(RepoPaths.Root, "templates", "content", "pluginproxy-analyzer");
        Assert.Contains($"Include=\"PluginProxy.Abstractions\" Version=\"{sdkVersion}\"", File.ReadAllText(Path.Combine(template, "MyPlugin", "MyPlugin.csproj")));
        Assert.Contains($"Include=\"PluginProxy.TestKit\" Version=\"{sdkVersion}\"", File.ReadAllText(Path.Combine(template, "MyPlugin.Tests", "MyPlugin.Tests.csproj")));
    }

    [Fact]
    public async Task FollowingTheWalkthrough_StartsFromTheTemplate_TestsWithTheKit_AndRunsInALiveProxy()
    {
        List<(string Info, string Body)> blocks = WalkthroughBlocks();
        using var work = new TempDirectory();
        string clone = MakeClone(work.Path);
        string plugins = Directory.CreateDirectory(Path.Combine(work.Path, "plugins")).FullName;
        await using HttpOrigin origin = HttpOrigin.Echo();
        string Config(string listenerExtra) => $$"""
            {{RunningProxy.GlobalSection(extra: "hot_reload = true", plugins: plugins)}}
            [[listener]]
            name = "web"
            bind = ["127.0.0.1:0"]
            supervisor = "http"
            backend = "app"
            {{listenerExtra}}

            [[backend]]
            name = "app"
            servers = [{ name = "origin", address = "{{origin.Address}}" }]
            """;
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(""));

        // Steps 1 to 5: every shell block, in order, in one shell.
        string script = "set -euo pipefail\n" + string.Join("\n", blocks.Where(b => b.Info == "bash").Select(b => b.Body));
        (int exitCode, string output) = await RunBashAsync(script, new Dictionary<string, string>
        {
            ["PLUGINPROXY"] = clone,
            ["WORK"] = Path.Combine(work.Path, "work"),
            ["PLUGINS"] = plugins,
            // A package cache of its own: the SDK package packed here must not be mixed up with an older one of the same version.
            ["NUGET_PACKAGES"] = Path.Combine(work.Path, "nuget-packages"),
            // A home of its own for the CLI: `dotnet new install` registers the templates there, not in the user's.
            ["DOTNET_CLI_HOME"] = Path.Combine(work.Path, "cli-home"),
        });
        Assert.True(exitCode == 0, $"the walkthrough's commands failed ({exitCode}):\n{output}");
        Assert.Matches(@"Passed!\s+- Failed:\s+0, Passed:\s+4,", output);

        string deployed = Path.Combine(plugins, "SecureHeaders");
        Assert.True(File.Exists(Path.Combine(deployed, "SecureHeaders.dll")), output);
        Assert.False(File.Exists(Path.Combine(deployed, "PluginProxy.Abstractions.dll")), "the SDK must not be copied into the plugin folder");

        // The proxy picks the copied folder up by itself.
        await Wait.UntilAsync(
            () => proxy.Host.Plugins.Plugins.Any(p => p.Name == "SecureHeaders" && p.AssemblyPath.StartsWith(deployed, StringComparison.Ordinal)),
            $"the author's SecureHeaders build to be loaded; log:\n{proxy.Logs.Dump()}", TimeSpan.FromSeconds(30));
        LoadedPlugin loaded = proxy.Host.Plugins.Plugins.Single(p => p.Name == "SecureHeaders");
        Assert.Equal(["frame_options", "secureheaders_private_paths"], loaded.Analyzers.Keys.Order());

        // Step 6: the walkthrough's proxy.toml lines, then a reload.
        string toml = Assert.Single(blocks, b => b.Info == "toml").Body;
        File.WriteAllText(Path.Combine(proxy.Directory, "proxy.toml"), Config(toml));
        Assert.Empty(await proxy.Host.ReloadConfigurationAsync());

        using RawHttp client = await RawHttp.ConnectAsync(proxy);
        await client.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        RawResponse response = await client.ReadResponseAsync();
        Assert.Equal(200, response.Status);
        Assert.Equal("DENY", response.Header("X-Frame-Options"));
    }

    /// <summary>The part of a clone the walkthrough uses (what it packs: the SDK, the test kit with the supervisors it carries, the templates), so packing leaves the repository's build alone.</summary>
    private static string MakeClone(string under)
    {
        string clone = Path.Combine(under, "clone");
        foreach (string file in new[] { "Directory.Build.props", "Directory.Packages.props", "plugins/Directory.Build.props", "plugins/Directory.Build.targets" })
        {
            Copy(file);
        }

        foreach (string folder in new[] { "abstractions", "testkit", "templates", "plugins/Http", "plugins/Tcp" })
        {
            foreach (string file in Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, folder), "*", SearchOption.AllDirectories))
            {
                string relative = Path.GetRelativePath(RepoPaths.Root, file);
                if (!relative.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}") && !relative.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
                {
                    Copy(relative);
                }
            }
        }

        return clone;

        void Copy(string relative)
        {
            string target = Path.Combine(clone, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(Path.Combine(RepoPaths.Root, relative), target);
        }
    }

    private static async Task<(int ExitCode, string Output)> RunBashAsync(string script, Dictionary<string, string> environment)
    {
        var info = new ProcessStartInfo("bash")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add("-s");

        // The test host's MSBuild settings must not leak into the builds the script runs.
        foreach (string inherited in info.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(inherited);
        }

        info.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach ((string name, string value) in environment)
        {
            info.Environment[name] = value;
        }

        using Process bash = Process.Start(info)!;
        var output = new StringBuilder();
        bash.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        bash.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        bash.BeginOutputReadLine();
        bash.BeginErrorReadLine();
        await bash.StandardInput.WriteAsync(script);
        bash.StandardInput.Close();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try
        {
            await bash.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            bash.Kill(entireProcessTree: true);
            throw new TimeoutException("the walkthrough's commands took over 5 minutes:\n" + output);
        }

        bash.WaitForExit();
        lock (output)
        {
            return (bash.ExitCode, output.ToString());
        }
    }
}
