using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;

namespace PluginProxy.TestKit;

/// <summary>An <see cref="IHeartbeat"/> of its own: every <see cref="Period"/> a timer checks the registered targets, as the host's does.</summary>
public sealed class TestHeartbeat : IHeartbeat, IDisposable
{
    private readonly ConcurrentDictionary<IExpiring, byte> _targets = new();
    private readonly Timer _timer;

    /// <summary>Starts ticking.</summary>
    public TestHeartbeat() => _timer = new Timer(_ => Tick(), null, Period, Period);

    /// <inheritdoc/>
    public TimeSpan Period { get; } = TimeSpan.FromMilliseconds(50);

    /// <summary>How many targets are registered now.</summary>
    public int Count => _targets.Count;

    /// <inheritdoc/>
    public void Add(IExpiring target) => _targets.TryAdd(target, 0);

    /// <inheritdoc/>
    public void Remove(IExpiring target) => _targets.TryRemove(target, out _);

    /// <summary>Checks every target now (the timer does it every <see cref="Period"/>).</summary>
    public void Tick()
    {
        long now = Environment.TickCount64;
        foreach (IExpiring target in _targets.Keys)
        {
            if (target.IsExpired(now))
            {
                target.Expire(now);
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _timer.Dispose();
}

/// <summary>An <see cref="IAccessLog"/> that keeps the lines written.</summary>
public sealed class TestAccessLog : IAccessLog
{
    private readonly ConcurrentQueue<string> _lines = new();

    /// <inheritdoc/>
    public bool IsEnabled => true;

    /// <summary>The lines written, in order.</summary>
    public IReadOnlyList<string> Lines => _lines.ToArray();

    /// <inheritdoc/>
    public void Write(ReadOnlySpan<char> line) => _lines.Enqueue(line.ToString());

    /// <summary>Keeps the record's text line (<see cref="AccessLogText"/>) when the listener logs it.</summary>
    public void Write(in AccessRecord record)
    {
        if (record.Logged)
        {
            Span<char> line = stackalloc char[AccessLogText.MaxLength];
            Write(line[..AccessLogText.Format(record, line)]);
        }
    }
}

/// <summary>A logger that keeps what it is given: pass it to an analyzer's constructor and check <see cref="Lines"/>.</summary>
public class TestLogger : ILogger
{
    private readonly ConcurrentQueue<LogLine> _lines = new();

    /// <summary>The lines logged, in order.</summary>
    public IReadOnlyList<LogLine> Lines => _lines.ToArray();

    /// <inheritdoc/>
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    /// <inheritdoc/>
    public bool IsEnabled(LogLevel logLevel) => true;

    /// <inheritdoc/>
    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _lines.Enqueue(new LogLine(logLevel, eventId, formatter(state, exception), exception));
}

/// <summary>A <see cref="TestLogger"/> for <typeparamref name="T"/>.</summary>
public sealed class TestLogger<T> : TestLogger, ILogger<T>
{
}

/// <summary>One line a <see cref="TestLogger"/> kept.</summary>
public sealed record LogLine(LogLevel Level, EventId EventId, string Message, Exception? Exception);
