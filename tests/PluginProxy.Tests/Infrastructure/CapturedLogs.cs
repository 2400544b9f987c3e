using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace PluginProxy.Tests.Infrastructure;

/// <summary>A logger provider that keeps every line, so tests can wait for and assert on log output.</summary>
internal sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<CapturedLine> _lines = new();

    public IReadOnlyCollection<CapturedLine> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public IEnumerable<string> Category(string category) =>
        _lines.Where(l => l.Category == category).Select(l => l.Message);

    /// <summary>The session log lines (one per ended session).</summary>
    public IEnumerable<string> SessionLines => Category("PluginProxy.Session");

    public async Task<string> WaitForAsync(string category, Func<string, bool> match, string what, TimeSpan? deadline = null)
    {
        string? found = null;
        await Wait.UntilAsync(() => (found = Category(category).FirstOrDefault(match)) is not null, $"{what}; log so far:\n{Dump()}", deadline);
        return found!;
    }

    public Task<string> WaitForSessionAsync(Func<string, bool> match, string what, TimeSpan? deadline = null) =>
        WaitForAsync("PluginProxy.Session", match, what, deadline);

    public string Dump() => string.Join("\n", _lines.Select(l => $"{l.Level} {l.Category}: {l.Message}"));

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            string message = formatter(state, exception);
            if (exception is not null)
            {
                message += " | " + exception;
            }

            owner._lines.Enqueue(new CapturedLine(logLevel, category, message));
        }
    }
}

internal sealed record CapturedLine(LogLevel Level, string Category, string Message);
