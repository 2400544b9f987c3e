using System.Collections.Concurrent;
using PluginProxy.Abstractions;

namespace PluginProxy.Tests.Infrastructure;

/// <summary>An access log that keeps its lines for the test to inspect.</summary>
internal sealed class CapturedAccessLog : IAccessLog
{
    private readonly ConcurrentQueue<string> _lines = new();

    public bool IsEnabled => true;

    public IReadOnlyCollection<string> Lines => _lines;

    public void Write(ReadOnlySpan<char> line) => _lines.Enqueue(line.ToString());

    public void Write(in AccessRecord record)
    {
        if (record.Logged)
        {
            Span<char> line = stackalloc char[AccessLogText.MaxLength];
            Write(line[..AccessLogText.Format(record, line)]);
        }
    }

    public async Task<string> WaitForAsync(Func<string, bool> match, string what, TimeSpan? deadline = null)
    {
        string? found = null;
        await Wait.UntilAsync(() => (found = _lines.FirstOrDefault(match)) is not null,
            $"{what}; access log so far:\n{string.Join("\n", _lines)}", deadline);
        return found!;
    }
}
