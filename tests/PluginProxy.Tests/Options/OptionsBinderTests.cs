using PluginProxy.Abstractions.Options;
using PluginProxy.Host.Configuration;
using Tomlyn.Parsing;

namespace PluginProxy.Tests.Options;

/// <summary>The SDK's options binder: each type, each error at its file:line:column, unknown keys, defaults.</summary>
public class OptionsBinderTests
{
    public enum Mode
    {
        RoundRobin,
        LeastConn,
    }

    public sealed class Sample : IValidatableOptions
    {
        public bool Enabled { get; init; }
        public int Count { get; init; } = 7;
        [OptionRange(1, 10)]
        public long Small { get; init; } = 1;
        public double Ratio { get; init; }
        public string Name { get; init; } = "none";
        public TimeSpan Period { get; init; } = TimeSpan.FromSeconds(1);
        [Size]
        public long Limit { get; init; }
        [Size, OptionRange(1024, 1 << 20)]
        public int? Buffer { get; init; }
        public Mode Balance { get; init; }
        public IReadOnlyList<string> Tags { get; init; } = [];
        [OptionKey("forwardfor")]
        public bool ForwardFor { get; init; }
        public Inner? Nested { get; init; }
        public List<Rule> Rules { get; init; } = [];

        public IEnumerable<(string Key, string Message)> Validate()
        {
            if (Count == 13)
            {
                yield return ("count", "`count` must not be 13");
            }

            for (int i = 0; i < Tags.Count; i++)
            {
                if (Tags[i] == "bad")
                {
                    yield return ($"tags[{i}]", "`tags` must not hold \"bad\"");
                }
            }
        }
    }

    public sealed class Inner
    {
        [RequiredOption]
        public string Host { get; init; } = "";
    }

    public sealed class Rule
    {
        [RequiredOption]
        public string Backend { get; init; } = "";
        public string? PathPrefix { get; init; }
        public string[]? Method { get; init; }
    }

    private const string File = "test.toml";

    private static OptionTable Table(string toml)
    {
        var document = SyntaxParser.Parse(toml, File, true);
        Assert.False(document.HasErrors, string.Join("\n", document.Diagnostics));
        TomlTableNode root = TomlTreeBuilder.Build(document, File);
        return (OptionTable)root.ToOption();
    }

    private static OptionsBinding<Sample> Bind(string toml, bool claims = true) => OptionsBinder.Bind<Sample>(Table(toml), "", claims);

    [Fact]
    public void EveryType_Binds()
    {
        OptionsBinding<Sample> bound = Bind("""
            enabled = true
            count = 3
            small = 10
            ratio = 2
            name = "web"
            period = "250ms"
            limit = "16k"
            buffer = 4096
            balance = "least_conn"
            tags = ["a", "b"]
            forwardfor = true
            nested = { host = "h" }
            [[rules]]
            backend = "api"
            path_prefix = "/v1/"
            method = "GET"
            [[rules]]
            backend = "web"
            """);

        Assert.Empty(bound.Errors);
        Sample s = bound.Value;
        Assert.True(s.Enabled);
        Assert.Equal(3, s.Count);
        Assert.Equal(10, s.Small);
        Assert.Equal(2.0, s.Ratio);
        Assert.Equal("web", s.Name);
        Assert.Equal(TimeSpan.FromMilliseconds(250), s.Period);
        Assert.Equal(16384, s.Limit);
        Assert.Equal(4096, s.Buffer);
        Assert.Equal(Mode.LeastConn, s.Balance);
        Assert.Equal(["a", "b"], s.Tags);
        Assert.True(s.ForwardFor);
        Assert.Equal("h", s.Nested!.Host);
        Assert.Equal(2, s.Rules.Count);
        Assert.Equal(("api", "/v1/"), (s.Rules[0].Backend, s.Rules[0].PathPrefix));
        Assert.Equal(["GET"], s.Rules[0].Method!);
        Assert.Null(s.Rules[1].Method);
    }

    [Fact]
    public void AbsentKeys_KeepTheirDefaults_AndNullMeansNothingWritten()
    {
        Assert.Equal(7, Bind("").Value.Count);
        OptionsBinding<Sample> none = OptionsBinder.Bind<Sample>(null);
        Assert.Empty(none.Errors);
        Assert.Equal(TimeSpan.FromSeconds(1), none.Value.Period);
    }

    [Theory]
    [InlineData("enabled = \"yes\"", 1, 11, "`enabled` must be true or false, not a string")]
    [InlineData("count = 1.5", 1, 9, "`count` must be an integer from -2147483648 to 2147483647, not a float")]
    [InlineData("count = 3000000000", 1, 9, "`count` must be from -2147483648 to 2147483647, not 3000000000")]
    [InlineData("small = 11", 1, 9, "`small` must be from 1 to 10, not 11")]
    [InlineData("ratio = \"x\"", 1, 9, "`ratio` must be a number, not a string")]
    [InlineData("name = 5", 1, 8, "`name` must be a string, not an integer")]
    [InlineData("period = \"5\"", 1, 10, "`period`: \"5\" has no unit; write \"5s\" for seconds or \"5ms\" for milliseconds")]
    [InlineData("period = 5", 1, 10, "`period` must be a duration string such as \"5s\" or \"250ms\", not an integer")]
    [InlineData("period = \"0s\"", 1, 10, "`period` must be at least 1ms, not \"0s\"")]
    [InlineData("limit = \"lots\"", 1, 9, "`limit`: \"lots\" is not a size; write bytes as an integer or a string with a unit: \"16k\", \"1m\"")]
    [InlineData("limit = true", 1, 9, "`limit` must be a size (an integer of bytes, or a string such as \"16k\"), not a boolean")]
    [InlineData("buffer = \"2m\"", 1, 10, "`buffer` must be from 1024 to 1048576 bytes, not 2097152")]
    [InlineData("balance = \"leastconn\"", 1, 11, "`balance` \"leastconn\" is unknown; did you mean \"least_conn\"?")]
    [InlineData("balance = 1", 1, 11, "`balance` must be one of \"round_robin\", \"least_conn\", not an integer")]
    [InlineData("tags = [\"a\", 2]", 1, 14, "`tags` must hold strings, not an integer")]
    [InlineData("tags = 2", 1, 8, "`tags` must be a string or a list of strings, not an integer")]
    [InlineData("nested = 1", 1, 10, "`nested` must be a table, not an integer")]
    [InlineData("nested = {}", 1, 10, "`nested` needs `nested.host`")]
    [InlineData("nested = { host = \"h\", colour = 1 }", 1, 24, "unknown key `colour` in `nested`; known keys are: host")]
    [InlineData("rules = [{ path_prefix = \"/\" }]", 1, 10, "`rules` needs `rules.backend`")]
    [InlineData("rules = [1]", 1, 10, "`rules` must hold tables such as { name = \"a\", ... }, not an integer")]
    [InlineData("rules = 1", 1, 9, "`rules` must be an array of tables ([[rules]]), not an integer")]
    [InlineData("count = 13", 1, 9, "`count` must not be 13")]
    [InlineData("tags = [\"a\", \"bad\"]", 1, 14, "`tags` must not hold \"bad\"")]
    [InlineData("tags = \"bad\"", 1, 8, "`tags` must not hold \"bad\"")]
    public void EachWrongValue_IsReportedAtItsPlace(string toml, int line, int column, string message)
    {
        OptionError error = Assert.Single(Bind(toml).Errors);
        Assert.Equal(new OptionSpot(File, line, column), error.Where);
        Assert.Equal(message, error.Message);
        Assert.Equal($"{File}:{line}:{column}: {message}", error.ToString());
    }

    [Fact]
    public void UnknownKeys_AreReportedAtTheKey_WithASuggestion_WhenTheClassClaimsTheTable()
    {
        OptionsBinding<Sample> bound = OptionsBinder.Bind<Sample>(Table("count = 1\n  forwardfr = true\nzzz = 1"), "options.sample");
        Assert.Equal(
            [$"{File}:2:3: unknown key `forwardfr` in `options.sample`; did you mean `forwardfor`?",
             $"{File}:3:1: unknown key `zzz` in `options.sample`; known keys are: enabled, count, small, ratio, name, period, limit, buffer, balance, tags, forwardfor, nested, rules"],
            bound.Errors.Select(e => e.ToString()));
        Assert.Equal(1, bound.Value.Count);
        Assert.Empty(Bind("other_key = 1", claims: false).Errors);
    }

    [Fact]
    public void ErrorsNameTheDottedPath_AndSkipValidation()
    {
        OptionsBinding<Sample> bound = OptionsBinder.Bind<Sample>(Table("count = 13\nsmall = 0"), "options.sample");
        Assert.Equal("`options.sample.small` must be from 1 to 10, not 0", Assert.Single(bound.Errors).Message);
    }

    [Fact]
    public void ANodeThatIsNotATable_IsAnError()
    {
        OptionTable root = Table("sample = 3");
        OptionsBinding<Sample> bound = OptionsBinder.Bind<Sample>(root.Find("sample")!.Value, "options.sample");
        Assert.Equal($"{File}:1:10: `options.sample` must be a table, not an integer", Assert.Single(bound.Errors).ToString());
    }

    [Fact]
    public void KeysOf_ListsTheKeysInDeclarationOrder_AndSnakeCaseSplitsWords()
    {
        Assert.Equal(["backend", "path_prefix", "method"], OptionsBinder.KeysOf<Rule>());
        Assert.Equal("max_request_body", OptionsBinder.SnakeCase("MaxRequestBody"));
        Assert.Equal("http_reuse", OptionsBinder.SnakeCase("HTTPReuse"));
    }
}
