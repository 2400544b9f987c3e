using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Cli;

/// <summary>`pluginproxy check` tells a newcomer everything that is wrong, in one pass.</summary>
public class CheckCommandTests
{
    [Fact]
    public async Task Check_ReportsKeyAndValueErrors_TogetherWithUnknownNamesMissingScriptsAndUnreachableBackends()
    {
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", $$"""
            [global]
            plugins = "{{RepoPaths.PluginsBin}}"
            hot_reload = "yes"

            [[listener]]
            name = "web"
            bind = ["127.0.0.1:0"]
            supervisor = "htp"
            maxconns = 5
            backend = "app"

            [[listener]]
            name = "api"
            bind = ["nowhere"]
            supervisor = "http"
            backend = "app"
            request_analyzers = ["no_such_analyzer", "rules/missing.csx"]

            [[backend]]
            name = "app"
            servers = [{ name = "a", address = "127.0.0.1:9", weight = 0 }]

            [[backend]]
            name = "orphan"
            servers = [{ name = "a", address = "127.0.0.1:9" }]
            """);

        var (code, output) = await ProxyProcess.RunAsync("check", "--config", path);

        Assert.Equal(1, code);
        string[] expected =
        [
            $"{path}:3:14: `hot_reload` must be true or false, not a string",
            $"{path}:8:14: supervisor \"htp\" is not provided by any loaded plugin; did you mean \"http\"?",
            $"{path}:9:1: unknown key `maxconns`",
            $"{path}:14:9: `bind`:",
            $"{path}:17:22: analyzer \"no_such_analyzer\" is not provided by any loaded plugin",
            $"{path}:17:42: script ",
            $"{path}:21:60: `weight` must be from 1 to 256, not 0",
            $"{path}:24:8: backend \"orphan\" is not reachable",
            "8 error(s)",
        ];
        string[] lines = output.Split('\n');
        foreach (string line in expected)
        {
            Assert.True(lines.Any(l => l.StartsWith(line, StringComparison.Ordinal)), $"missing \"{line}\" in:\n{output}");
        }

        // In file order, as a reader meets them.
        Assert.Equal(expected[..^1].Select(e => Array.FindIndex(lines, l => l.StartsWith(e, StringComparison.Ordinal))).Order(),
            expected[..^1].Select(e => Array.FindIndex(lines, l => l.StartsWith(e, StringComparison.Ordinal))));
    }

    [Fact]
    public async Task Check_AnHttpsListenerWhoseCertificateCannotBeLoaded_StillHasItsAnalyzersChecked_AndNothingIsReportedTwice()
    {
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", $$"""
            [global]
            plugins = "{{RepoPaths.PluginsBin}}"

            [[listener]]
            name = "secure"
            bind = ["127.0.0.1:0"]
            supervisor = "https"
            backend = "app"
            request_analyzers = ["http_lb_rq"]

            [listener.tls]
            certificates = [{ cert = "certs/missing.pem", key = "certs/missing.key" }]

            [[backend]]
            name = "app"
            servers = [{ name = "a", address = "127.0.0.1:9" }]
            """);

        var (code, output) = await ProxyProcess.RunAsync("check", "--config", path);

        Assert.Equal(1, code);
        Assert.Contains($"{path}:9:22: analyzer \"http_lb_rq\" is not provided by any loaded plugin; did you mean \"http_lb_req\"?", output);
        Assert.Contains($"{path}:12:", output);
        Assert.DoesNotContain("give the listener a [listener.tls]", output);
        Assert.Contains("2 error(s)", output);
    }

    [Fact]
    public async Task Check_ReportsBadKeys_ABadCertificate_AndAMissingCaFile_AllInOnePass()
    {
        using var directory = new TempDirectory();
        using var pki = new TestPki(Path.Combine(directory.Path, "certs"));
        IssuedCertificate site = pki.Issue("site", "site.test");
        IssuedCertificate api = pki.Issue("api", "api.test");
        string path = directory.Write("proxy.toml", $$"""
            [global]
            plugins = "{{RepoPaths.PluginsBin}}"

            [[listener]]
            name = "secure"
            bind = ["127.0.0.1:0"]
            supervisor = "https"
            backend = "app"
            maxconns = 5

            [listener.tls]
            certificates = [{ cert = "{{site.CertPath}}", key = "{{api.KeyPath}}" }]
            min_version = "1.1"

            [[backend]]
            name = "app"
            servers = [{ name = "a", address = "127.0.0.1:9", weight = 0, tls = true, verify = "missing-ca.pem" }]
            """);

        var (code, output) = await ProxyProcess.RunAsync("check", "--config", path);

        Assert.Equal(1, code);
        string[] lines = File.ReadAllLines(path);
        string At(string text)
        {
            int line = Array.FindIndex(lines, l => l.Contains(text, StringComparison.Ordinal));
            return $"{path}:{line + 1}:{lines[line].IndexOf(text, StringComparison.Ordinal) + 1}: ";
        }

        string[] expected =
        [
            $"{At("maxconns")}unknown key `maxconns`",
            $"{At($"\"{site.CertPath}\"")}certificate {site.CertPath} with key {api.KeyPath} cannot be used",
            $"{At("\"1.1\"")}`min_version` \"1.1\" is not offered",
            $"{At("0, tls")}`weight` must be from 1 to 256, not 0",
            $"{At("\"missing-ca.pem\"")}server `verify`: cannot read the CA file",
            "5 error(s)",
        ];
        string[] printed = output.Split('\n');
        foreach (string line in expected)
        {
            Assert.True(printed.Any(l => l.StartsWith(line, StringComparison.Ordinal)), $"missing \"{line}\" in:\n{output}");
        }
    }
}
