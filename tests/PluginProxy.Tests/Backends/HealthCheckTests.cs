using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using PluginProxy.Abstractions;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Backends;

/// <summary>Health checks counting results: <c>fall</c> consecutive failures take a server down, <c>rise</c> consecutive successes bring it back.</summary>
public class HealthCheckTests
{
    [Fact]
    public async Task HttpCheck_TakesAServerDownAfterFallConsecutiveFailures_AndBackAfterRiseConsecutiveSuccesses()
    {
        // What the server answers to check k (1-based); P passes (200), F fails (503). After the script: 200.
        const string answers = "PFFPFFFPFPPPP";
        // The server's state as each check k arrives, that is, after checks 1..k-1 were counted (the next check starts
        // only after the previous one's result was acted on), with rise = 2 and fall = 3:
        //   k=3,4: one and two failures, still up; k=5: a pass resets the count; k=8: three failures in a row, down;
        //   k=10: one pass, still down; k=11: the failure reset it, still down; k=12: two passes in a row, up.
        const string expected = "UUUUUUUDDDDUU";
        var states = new ConcurrentDictionary<int, char>();
        var server = new TaskCompletionSource<IServer>(TaskCreationOptions.RunContinuationsAsynchronously);
        int checks = 0;
        await using var stub = new StubServer(async socket =>
        {
            await ReadHeadAsync(socket);
            int k = Interlocked.Increment(ref checks);
            states[k] = (await server.Task).IsUp ? 'U' : 'D';
            bool pass = k > answers.Length || answers[k - 1] == 'P';
            await socket.SendAllAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 {(pass ? "200 OK" : "503 Service Unavailable")}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
        });
        // A long check timeout: on a busy machine a slow check must not count as a failure the script did not ask for.
        string check = "check = { kind = \"http\", path = \"/health\", interval = \"20ms\", timeout = \"10s\", rise = 2, fall = 3 }";
        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.For(stub.Address, backendExtra: check));
        server.SetResult(proxy.Host.Backends.Find("app")!.Servers[0]);

        await Wait.UntilAsync(() => states.Count >= expected.Length, $"{expected.Length} health checks", TimeSpan.FromSeconds(30));

        Assert.Equal(expected, string.Concat(Enumerable.Range(1, expected.Length).Select(k => states[k])));
        await proxy.Logs.WaitForAsync("PluginProxy.Health", l => l.Contains("app/origin is DOWN") && l.Contains("HTTP status 503"), "the server going down, logged with why");
        await proxy.Logs.WaitForAsync("PluginProxy.Health", l => l.Contains("app/origin is UP"), "the server coming back, logged");
    }

    private static async Task ReadHeadAsync(Socket socket)
    {
        var head = new List<byte>();
        var buffer = new byte[1024];
        while (head.Count < 4 || !head.TakeLast(4).SequenceEqual("\r\n\r\n"u8.ToArray()))
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None);
            if (n == 0)
            {
                throw new EndOfStreamException("the check closed before its request head ended");
            }

            head.AddRange(buffer.AsSpan(0, n));
        }
    }
}
