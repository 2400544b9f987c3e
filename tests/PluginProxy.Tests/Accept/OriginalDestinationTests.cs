using System.Diagnostics;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Accept;

/// <summary>
/// <c>original_dst</c> with a real NAT redirect: inside a private network namespace, iptables redirects connections
/// for 127.0.0.1:7777 to the proxy on 127.0.0.1:8888, and the probe supervisor reports what SO_ORIGINAL_DST said.
/// Needs root (for the namespace) and iptables; .ci/run installs iptables.
/// </summary>
public class OriginalDestinationTests
{
    [SkippableFact]
    public async Task OriginalDestination_AfterAnIptablesRedirect_IsTheAddressTheClientDialled()
    {
        Skip.IfNot(Environment.UserName == "root" && File.Exists("/usr/bin/unshare") && (File.Exists("/usr/sbin/iptables") || File.Exists("/sbin/iptables")),
            "needs root, unshare and iptables to build a network namespace with a REDIRECT rule");
        using var directory = new TempDirectory();
        string config = directory.Write("proxy.toml", $"""
            [global]
            plugins = "{RepoPaths.TestPluginsBin}"

            [[listener]]
            name = "transparent-in"
            bind = ["127.0.0.1:8888"]
            supervisor = "probe"
            accept = ["original_dst"]
            """);
        string script = directory.Write("run.sh", $"""
            set -e
            ip link set lo up
            iptables -t nat -A OUTPUT -p tcp -d 127.0.0.1 --dport 7777 -j REDIRECT --to-ports 8888
            dotnet "{RepoPaths.HostAssembly}" run --config "{config}" > "{directory.Path}/proxy.log" 2>&1 &
            for i in $(seq 1 300); do (exec 3<>/dev/tcp/127.0.0.1/8888) 2>/dev/null && break; sleep 0.1; done
            exec 3<>/dev/tcp/127.0.0.1/7777
            cat <&3
            kill %1
            wait
            """);
        var info = new ProcessStartInfo("unshare", ["-n", "bash", script]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using Process process = Process.Start(info)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WithDeadline("the namespace script", TimeSpan.FromSeconds(60));

        string probe = await output;
        Assert.True(probe.Contains("original="), $"no probe answer; stderr: {await errors}; log: {File.ReadAllText(Path.Combine(directory.Path, "proxy.log"))}");
        Assert.Contains("original=127.0.0.1:7777", probe);
        Assert.Contains("destination=127.0.0.1:7777", probe);
    }
}
