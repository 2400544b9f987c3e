using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace PluginProxy.Tests.Infrastructure;

/// <summary>The real <c>pluginproxy</c> executable run as a child process, its output captured line by line.</summary>
internal sealed partial class ProxyProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ProxyProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) _output.Enqueue(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _output.Enqueue(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public IEnumerable<string> Output => _output;

    public int Pid => _process.Id;

    /// <summary>Starts <c>dotnet pluginproxy.dll args</c>, optionally under a wrapper command (for example setpriv).</summary>
    public static ProxyProcess Start(IEnumerable<string> args, string? workingDirectory = null, params string[] wrapper)
    {
        var info = new ProcessStartInfo
        {
            FileName = wrapper.Length > 0 ? wrapper[0] : "dotnet",
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (string part in wrapper.Skip(1))
        {
            info.ArgumentList.Add(part);
        }

        if (wrapper.Length > 0)
        {
            info.ArgumentList.Add("dotnet");
        }

        info.ArgumentList.Add(RepoPaths.HostAssembly);
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return new ProxyProcess(Process.Start(info)!);
    }

    /// <summary>Runs to completion and returns the exit code and every output line.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(params string[] args)
    {
        using ProxyProcess process = Start(args);
        int code = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (code, string.Join("\n", process.Output));
    }

    public async Task<int> WaitForExitAsync(TimeSpan deadline)
    {
        using var timeout = new CancellationTokenSource(deadline);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException("pluginproxy did not exit; output:\n" + string.Join("\n", _output));
        }

        // Let the asynchronous readers drain the last lines.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public async Task<string> WaitForLineAsync(Func<string, bool> match, string what)
    {
        string? found = null;
        await Wait.UntilAsync(() => (found = _output.FirstOrDefault(match)) is not null || _process.HasExited,
            what, TimeSpan.FromSeconds(30));
        return found ?? throw new InvalidOperationException($"pluginproxy exited before {what}; output:\n{string.Join("\n", _output)}");
    }

    /// <summary>Waits for the <paramref name="n"/>th line that matches (1 = the first), for a message that repeats (a reload's).</summary>
    public async Task<string> WaitForNthLineAsync(int n, Func<string, bool> match, string what)
    {
        string? found = null;
        try
        {
            await Wait.UntilAsync(() => (found = _output.Where(match).Skip(n - 1).FirstOrDefault()) is not null || _process.HasExited, what, TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}; output:\n{string.Join("\n", _output)}");
        }

        return found ?? throw new InvalidOperationException($"pluginproxy exited before {what}; output:\n{string.Join("\n", _output)}");
    }

    /// <summary>Waits for the "accepting on" line of <paramref name="listener"/> and returns the port it bound.</summary>
    public async Task<int> WaitForListenerPortAsync(string listener)
    {
        string line = await WaitForLineAsync(l => l.Contains($"Listener {listener} ") && l.Contains("accepting on"), $"listener {listener} to start");
        return int.Parse(AcceptingOn().Match(line).Groups[1].Value);
    }

    [GeneratedRegex(@"accepting on [^,]*?:(\d+)")]
    private static partial Regex AcceptingOn();

    public void Signal(int signal)
    {
        if (Kill(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    public const int SigTerm = 15;
    public const int SigHup = 1;
    public const int SigUsr1 = 10;
    public const int SigInt = 2;

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }
}
