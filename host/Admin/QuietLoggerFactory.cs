using Microsoft.Extensions.Logging;

namespace PluginProxy.Host.Admin;

/// <summary>
/// The proxy's loggers as Kestrel sees them: warnings and errors only (a failed admin connection, a bad request), never
/// a line per admin request or Kestrel's own start-up chatter.
/// </summary>
internal sealed class QuietLoggerFactory(ILoggerFactory inner) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new Quiet(inner.CreateLogger(categoryName));

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("The admin endpoint logs through the proxy's loggers");

    public void Dispose()
    {
        // The proxy's loggers outlive the admin endpoint.
    }

    private sealed class Quiet(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning && inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
