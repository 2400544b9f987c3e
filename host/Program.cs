using System.CommandLine;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using PluginProxy.Host;
using PluginProxy.Host.Configuration;
using PluginProxy.Host.Logging;

// Socket continuations run on the socket event thread, as HAProxy's event loop does: measured +50% req/s here.
// Must be set before the first socket is created; an operator's own setting wins.
SetDefaultEnvironment("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");

var configOption = new Option<string>("--config", "-c")
{
    Description = "The configuration file.",
    DefaultValueFactory = _ => "proxy.toml",
};
var run = new Command("run", "Run the proxy (the default command).") { configOption };
var check = new Command("check", "Validate the configuration, its plugins and scripts; print every error and exit 1, or exit 0.") { configOption };
// Help and --version are answered by the parser itself; otherwise one of these actions records the command.
string? command = null;
Func<Task<int>>? ctlAction = null;
var ctl = PluginProxy.Host.Ctl.CtlCommand.Build(action => (command, ctlAction) = ("ctl", action));
var root = new RootCommand("PluginProxy: an L4/L7 reverse proxy and load balancer extended by plugins and C# scripts.") { configOption, run, check, ctl };
root.SetAction(_ => command = "run");
run.SetAction(_ => command = "run");
check.SetAction(_ => command = "check");

ParseResult parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors)
    {
        Console.Error.WriteLine($"pluginproxy: {error.Message}");
    }

    Console.Error.WriteLine("usage: pluginproxy [run|check] [--config proxy.toml]  |  pluginproxy ctl <verb> ... (pluginproxy ctl --help)");
    return ExitCodes.Usage;
}

int helpExit = parsed.Invoke();
if (command is null)
{
    return helpExit;
}

if (ctlAction is not null)
{
    return await ctlAction();
}

string configPath = parsed.GetValue(configOption)!;
return command == "check"
    ? await Commands.CheckAsync(configPath)
    : await Commands.RunAsync(configPath);

static void SetDefaultEnvironment(string name, string value)
{
    if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name)))
    {
        Environment.SetEnvironmentVariable(name, value);
    }
}

/// <summary>The process exit codes of DESIGN.md.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int ConfigInvalid = 1;
    public const int Usage = 2;
}

/// <summary>The two commands: check and run.</summary>
internal static class Commands
{
    public static async Task<int> CheckAsync(string configPath)
    {
        using ILoggerFactory loggers = ProxyLogging.Create(LogLevel.Warning);
        if (await LoadAsync(configPath, loggers, start: false) is not { } host)
        {
            return ExitCodes.ConfigInvalid;
        }

        int plugins = host.Plugins.Plugins.Count;
        await host.DisposeAsync();
        Console.WriteLine($"{configPath}: configuration is valid ({host.Config.Listeners.Count} listener(s), {host.Config.Backends.Count} backend(s), {plugins} plugin(s))");
        return ExitCodes.Ok;
    }

    public static async Task<int> RunAsync(string configPath)
    {
        using ILoggerFactory loggers = ProxyLogging.Create();
        ILogger log = loggers.CreateLogger("PluginProxy.Host");
        if (await LoadAsync(configPath, loggers, start: true) is not { } host)
        {
            return ExitCodes.ConfigInvalid;
        }

        var stop = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnStopSignal);
        using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnStopSignal);
        using PosixSignalRegistration sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            HostLog.SighupReceived(log, configPath);
            // Off the signal thread: a reload compiles scripts and loads plugins.
            _ = Task.Run(host.ReloadConfigurationAsync);
        });

        string signal = await stop.Task;
        HostLog.StopSignalReceived(log, signal);
        await host.StopAsync(host.Config.Global.Grace);
        await host.DisposeAsync();
        return ExitCodes.Ok;

        void OnStopSignal(PosixSignalContext context)
        {
            // Keep the process alive: it exits once sessions are drained.
            context.Cancel = true;
            stop.TrySetResult(context.Signal.ToString());
        }
    }

    /// <summary>Loads the configuration and its plugins (and binds, when starting); prints every problem and returns null when any.</summary>
    private static async Task<ProxyHost?> LoadAsync(string configPath, ILoggerFactory loggers, bool start)
    {
        try
        {
            // Errors in the file do not stop here: the plugins and scripts it names are resolved too, so that every
            // problem is printed in one pass. A configuration with any error is never started.
            var errors = new List<ConfigError>();
            if (ConfigLoader.Read(configPath, errors) is not { } config)
            {
                throw new ConfigException(errors);
            }

            ProxyHost host = await ProxyHost.BuildAsync(config, loggers, configErrors: errors);
            if (start)
            {
                await host.StartAsync();
            }

            return host;
        }
        catch (ConfigException ex)
        {
            PrintProblems(ex.Errors.Select(e => e.ToString()));
        }
        catch (StartupException ex)
        {
            PrintProblems(ex.Problems);
        }

        return null;
    }

    private static void PrintProblems(IEnumerable<string> problems)
    {
        int count = 0;
        foreach (string problem in problems)
        {
            Console.Error.WriteLine(problem);
            count++;
        }

        Console.Error.WriteLine($"{count} error(s)");
    }
}
