using Microsoft.Extensions.Logging.Abstractions;
using PluginProxy.Host;
using PluginProxy.Host.Configuration;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Rules;

/// <summary>Bad declarative rules are refused at their file:line:column, with a message that says what would be right.</summary>
public class RuleConfigTests
{
    /// <summary>Loads and builds a configuration whose listener "web" (line 4) ends with <paramref name="listenerExtra"/> from line 9 on.</summary>
    private static async Task<(string Path, IReadOnlyList<string> Problems)> BuildAsync(string listenerExtra, string supervisor = "http")
    {
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", $$"""
            [global]
            plugins = "{{RepoPaths.PluginsBin}}"

            [[listener]]
            name = "web"
            bind = ["127.0.0.1:0"]
            supervisor = "{{supervisor}}"
            backend = "app"
            {{listenerExtra}}

            [[backend]]
            name = "app"
            servers = [{ name = "a", address = "127.0.0.1:9" }]
            """);
        try
        {
            await (await ProxyHost.BuildAsync(ConfigLoader.Load(path), NullLoggerFactory.Instance, new CapturedAccessLog())).DisposeAsync();
            return (path, []);
        }
        catch (ConfigException ex)
        {
            return (path, ex.Errors.Select(e => e.ToString()).ToList());
        }
        catch (StartupException ex)
        {
            return (path, ex.Problems);
        }
    }

    [Theory]
    [InlineData("[[listener.http_request]]\ndney = 403", "10:1", "unknown key `dney` in rule 1 of [[listener.http_request]] in listener \"web\"; did you mean `deny`?")]
    [InlineData("[[listener.http_request]]\nif = { path = \"/x\" }", "9:3", "rule 1 of [[listener.http_request]] in listener \"web\" has no action; give it one of: deny, redirect")]
    [InlineData("[[listener.http_request]]\ndeny = 403\nset_header = { name = \"X\", value = \"y\" }", "11:1", "rule 1 of [[listener.http_request]] in listener \"web\" has two actions, `deny` and `set_header`: a rule has one")]
    [InlineData("[[listener.http_request]]\ndeny = 200", "10:8", "`deny` must be from 400 to 599, not 200")]
    [InlineData("[[listener.http_request]]\nredirect = { location = \"/x\", status = 304 }", "10:40", "a redirect's `status` must be one of 301, 302, 303, 307, 308, not 304")]
    [InlineData("[[listener.http_request]]\nrespond = { status = 700 }", "10:22", "`status` must be from 100 to 599, not 700")]
    [InlineData("[[listener.http_request]]\nif = { src = [\"10.0.0.0/8\", \"10.0.0.1/8\"] }\ndeny = 403", "10:29", "`src` \"10.0.0.1/8\" is not an address or a network")]
    [InlineData("[[listener.http_request]]\nif = { src = \"10.0.0/8\" }\ndeny = 403", "10:14", "`src` \"10.0.0/8\" is not an address or a network")]
    [InlineData("[[listener.http_request]]\nif = { path_regex = \"^/(a\" }\ndeny = 403", "10:21", "`path_regex` \"^/(a\" is not a regular expression rules can run")]
    [InlineData("[[listener.http_request]]\nif = { path_regex = \"^/(?!public)\" }\ndeny = 403", "10:21", "`path_regex` \"^/(?!public)\" is not a regular expression rules can run")]
    [InlineData("[[listener.http_request]]\nif = { pathprefix = \"/a\" }\ndeny = 403", "10:8", "unknown key `pathprefix` in `if` of rule 1 of [[listener.http_request]] in listener \"web\"; did you mean `path_prefix`?")]
    [InlineData("[[listener.http_request]]\nif = { path_prefix = \"admin\" }\ndeny = 403", "10:22", "a path must start with '/', not \"admin\"")]
    [InlineData("[[listener.http_request]]\nif = { status = 404 }\ndeny = 403", "10:8", "`status` is a condition of response rules")]
    [InlineData("[[listener.http_response]]\nbackend = \"app\"", "10:1", "`backend` is a request action")]
    [InlineData("[[listener.http_request]]\nset_header = { name = \"Bad Name\", value = \"x\" }", "10:23", "\"Bad Name\" is not a header name")]
    [InlineData("[[listener.http_request]]\nset_header = { name = \"X-A\", value = \"%[client]\" }", "10:38", "\"%[client]\": `%[client]` is not a variable; use %[src]")]
    [InlineData("[[listener.http_request]]\nbackend = \"nope\"", "10:11", "listener \"web\" names backend \"nope\", which is not defined")]
    [InlineData("[[listener.http_request]]\nif = { header = { name = \"X\", value = \"a\", prefix = \"b\" } }\ndeny = 403", "10:53", "a header condition compares one way: `value` or `prefix`, not both")]
    [InlineData("[[listener.http_request]]\nif = { table = { name = \"clients\", counter = \"http_req_rat\", gt = 10 } }\ndeny = 429", "10:46", "`counter` \"http_req_rat\" is not a stick-table counter; did you mean \"http_req_rate\"?")]
    [InlineData("[[listener.http_request]]\nif = { table = { name = \"clients\", counter = \"conn_cur\" } }\ndeny = 429", "10:16", "a counter condition needs one comparison: one of gt, ge, lt, le, eq")]
    [InlineData("[[listener.http_request]]\nrewrite_path = { from_prefix = \"old\", to = \"/new/\" }", "10:32", "`from_prefix` \"old\" is not a path")]
    [InlineData("request_analyzers = [\"http_request\"]", "9:22", "\"http_request\" places the listener's [[listener.http_request]] rules among its analyzers, but it has none")]
    [InlineData("response_analyzers = [\"http_request\"]\n[[listener.http_request]]\ndeny = 403", "9:23", "\"http_request\" (the listener's rules) works on the request channel: list it in request_analyzers, not in response_analyzers")]
    public async Task BadRule_IsRefusedAtItsPlace_WithASpecificMessage(string listenerExtra, string at, string message)
    {
        (string path, IReadOnlyList<string> problems) = await BuildAsync(listenerExtra);

        Assert.True(problems.Count == 1 && problems[0].StartsWith($"{path}:{at}: {message}", StringComparison.Ordinal),
            $"expected one problem at {at}: {message}\ngot:\n{string.Join("\n", problems)}");
    }

    [Fact]
    public async Task Rules_OnATcpListener_AreRefused()
    {
        (string path, IReadOnlyList<string> problems) = await BuildAsync("[[listener.http_request]]\ndeny = 403", supervisor: "tcp");

        string expected = $"{path}:9:3: [[listener.http_request]] needs an HTTP supervisor (http, https): supervisor \"tcp\" passes bytes";
        Assert.True(problems.Count == 1 && problems[0].StartsWith(expected, StringComparison.Ordinal), string.Join("\n", problems));
    }

    [Fact]
    public async Task Check_RefusesBadRules_AtFileLineColumn()
    {
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", $$"""
            [global]
            plugins = "{{RepoPaths.PluginsBin}}"

            [[listener]]
            name = "web"
            bind = ["127.0.0.1:0"]
            supervisor = "http"
            backend = "app"

            [[listener.http_request]]
            if = { src = "300.0.0.0/8" }
            deny = 403
            redirect = "/x"

            [[backend]]
            name = "app"
            servers = [{ name = "a", address = "127.0.0.1:9" }]
            """);

        var (code, output) = await ProxyProcess.RunAsync("check", "--config", path);

        Assert.Equal(1, code);
        Assert.Contains($"{path}:11:14: `src` \"300.0.0.0/8\" is not an address or a network", output);
        Assert.Contains($"{path}:13:1: rule 1 of [[listener.http_request]] in listener \"web\" has two actions, `deny` and `redirect`", output);
    }
}
