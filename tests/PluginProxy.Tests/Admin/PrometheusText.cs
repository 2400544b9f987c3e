using System.Globalization;
using System.Text.RegularExpressions;

namespace PluginProxy.Tests.Admin;

/// <summary>
/// A strict reader of the Prometheus text exposition format (version 0.0.4): it throws on any line a scraper would
/// reject, on a sample whose family has no # TYPE before it, on a family declared twice, and on a repeated series.
/// </summary>
internal static partial class PrometheusText
{
    [GeneratedRegex("""^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$""")]
    private static partial Regex Help();

    [GeneratedRegex("""^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$""")]
    private static partial Regex Type();

    // name, optional {label="value",...} with \\, \" and \n escapes (or {}, which scrapers accept), one space, a float.
    [GeneratedRegex("""^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{\}|\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*\})? (\S+)$""")]
    private static partial Regex Sample();

    /// <summary>Every sample, keyed by its series as written (<c>name{labels}</c>).</summary>
    public static Dictionary<string, double> Parse(string text)
    {
        Assert.EndsWith("\n", text);
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (string line in text[..^1].Split('\n'))
        {
            if (Help().Match(line) is { Success: true })
            {
                continue;
            }

            if (Type().Match(line) is { Success: true } type)
            {
                Assert.True(types.TryAdd(type.Groups[1].Value, type.Groups[2].Value), $"family declared twice: {line}");
                continue;
            }

            Match sample = Sample().Match(line);
            Assert.True(sample.Success, $"not a valid exposition line: \"{line}\"");
            string family = sample.Groups[1].Value;
            string? kind = types.GetValueOrDefault(family);
            if (kind is null && HistogramFamily(family) is { } histogram && types.GetValueOrDefault(histogram) == "histogram")
            {
                kind = "histogram";
            }

            Assert.True(kind is not null, $"sample before its # TYPE: {line}");
            Assert.True(double.TryParse(sample.Groups[3].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double value), $"not a number: {line}");
            Assert.True(kind != "counter" || (value >= 0 && family.EndsWith("_total", StringComparison.Ordinal)), $"a counter is a non-negative *_total: {line}");
            Assert.True(samples.TryAdd(family + sample.Groups[2].Value, value), $"series repeated: {line}");
        }

        return samples;
    }

    /// <summary>The family of a histogram's series: <c>x</c> for <c>x_bucket</c>, <c>x_sum</c>, <c>x_count</c>.</summary>
    private static string? HistogramFamily(string name) =>
        new[] { "_bucket", "_sum", "_count" }.FirstOrDefault(s => name.EndsWith(s, StringComparison.Ordinal)) is { } suffix ? name[..^suffix.Length] : null;
}
