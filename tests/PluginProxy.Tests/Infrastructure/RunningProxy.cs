using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using PluginProxy.Host;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Tests.Infrastructure;

/// <summary>
/// A real proxy host running in the test process: configuration parsed from TOML text, plugins loaded from the
/// repository's plugins/bin, listeners bound on ephemeral ports, logs captured.
/// </summary>
internal sealed class RunningProxy : IAsyncDisposable
{
    private readonly TempDirectory _directory;
    private readonly ILoggerFactory _loggers;

    private RunningProxy(TempDirectory directory, ProxyHost host, ILoggerFactory loggers, CapturedLogs logs, CapturedAccessLog accessLog)
    {
        _directory = directory;
        Host = host;
        _loggers = loggers;
        Logs = logs;
        AccessLog = accessLog;
    }

    public ProxyHost Host { get; }

    public CapturedLogs Logs { get; }

    /// <summary>The access-log lines (one per HTTP stream).</summary>
    public CapturedAccessLog AccessLog { get; }

    public string Directory => _directory.Path;

    /// <summary>
    /// The [global] table every test configuration starts with: no admin endpoint; plugins from the given folder
    /// (the repository's built-in ones by default; those are found in any case).
    /// </summary>
    public static string GlobalSection(string extra = "", string? plugins = null) => $"""
        [global]
        plugins = "{plugins ?? RepoPaths.PluginsBin}"
        {extra}

        """;

    public static async Task<RunningProxy> StartAsync(string toml)
    {
        var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", toml);
        var logs = new CapturedLogs();
        ILoggerFactory loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(logs));
        try
        {
            ProxyConfig config = ConfigLoader.Load(path);
            var accessLog = new CapturedAccessLog();
            ProxyHost host = await ProxyHost.BuildAsync(config, loggers, accessLog);
            await host.StartAsync();
            return new RunningProxy(directory, host, loggers, logs, accessLog);
        }
        catch
        {
            loggers.Dispose();
            directory.Dispose();
            throw;
        }
    }

    public IPEndPoint EndPoint(string? listener = null)
    {
        var found = listener is null ? Host.Listeners[0] : Host.FindListener(listener) ?? throw new ArgumentException($"no listener {listener}");
        IPEndPoint bound = found.BoundEndPoints[0];
        return bound.Address.Equals(IPAddress.Any) ? new IPEndPoint(IPAddress.Loopback, bound.Port) : bound;
    }

    public Task<Socket> ConnectAsync(string? listener = null) => SocketExtensions.ConnectAsync(EndPoint(listener));

    public async ValueTask DisposeAsync()
    {
        await Host.StopAsync(TimeSpan.FromSeconds(2));
        await Host.DisposeAsync();
        _loggers.Dispose();
        _directory.Dispose();
    }
}
