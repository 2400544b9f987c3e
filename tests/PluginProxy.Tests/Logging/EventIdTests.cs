using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using PluginProxy.Host;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Logging;

/// <summary>Every line the host logs has one event id, in its area's range, listed in docs/logging.md with its level and text.</summary>
public sealed partial class EventIdTests
{
    /// <summary>The range of each log class, as docs/logging.md lists them.</summary>
    private static readonly Dictionary<string, (int From, int To)> Ranges = new()
    {
        ["AcceptLog"] = (1000, 1999),
        ["HostLog"] = (2000, 2099),
        ["WatchLog"] = (2100, 2199),
        ["PluginLog"] = (3000, 3999),
        ["ScriptLog"] = (4000, 4899),
        ["RuleLog"] = (4900, 4999),
        ["AdminLog"] = (5000, 5999),
        ["BackendLog"] = (6000, 6999),
        ["DnsLog"] = (6050, 6059),
        ["TlsLog"] = (7000, 7999),
        ["TrafficLog"] = (8000, 8999),
        ["StoreLog"] = (9000, 9099),
    };

    private static List<(Type Class, string Method, LoggerMessageAttribute Message)> HostMessages() =>
        typeof(ProxyHost).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.DeclaredOnly)
                .Select(m => (Class: t, Method: m.Name, Message: m.GetCustomAttribute<LoggerMessageAttribute>())))
            .Where(m => m.Message is not null)
            .Select(m => (m.Class, m.Method, m.Message!))
            .ToList();

    [Fact]
    public void EveryHostLogLine_HasAUniqueEventId_InItsAreasRange()
    {
        var messages = HostMessages();

        Assert.True(messages.Count >= 40, $"only {messages.Count} [LoggerMessage] methods found in the host");
        foreach (var group in messages.GroupBy(m => m.Message.EventId))
        {
            Assert.True(group.Count() == 1, $"event id {group.Key} is used by {string.Join(", ", group.Select(m => $"{m.Class.Name}.{m.Method}"))}");
        }

        foreach ((Type type, string method, LoggerMessageAttribute message) in messages)
        {
            Assert.True(Ranges.TryGetValue(type.Name, out var range), $"{type.Name} has no documented event id range");
            Assert.InRange(message.EventId, range.From, range.To);
        }
    }

    [Fact]
    public void EveryHostLogLine_IsListedInTheDocs_WithItsLevelAndText()
    {
        string docs = File.ReadAllText(Path.Combine(RepoPaths.Root, "docs", "logging.md"));
        var listed = DocRow().Matches(docs).ToDictionary(m => int.Parse(m.Groups["id"].Value), m => (Level: m.Groups["level"].Value, Text: m.Groups["text"].Value.Replace("\\|", "|")));

        foreach ((Type type, string method, LoggerMessageAttribute message) in HostMessages())
        {
            Assert.True(listed.TryGetValue(message.EventId, out var row), $"event id {message.EventId} ({type.Name}.{method}) is not in docs/logging.md");
            Assert.Equal(message.Level.ToString(), row.Level);
            Assert.Equal(message.Message, row.Text);
        }

        Assert.Equal(HostMessages().Count, listed.Count);
    }

    [GeneratedRegex(@"^\| (?<id>\d{4}) \| (?<level>\w+) \| `[^`]+` \| (?<text>.*) \|$", RegexOptions.Multiline)]
    private static partial Regex DocRow();
}
