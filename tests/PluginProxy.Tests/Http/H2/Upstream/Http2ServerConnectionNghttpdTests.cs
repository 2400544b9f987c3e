using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using PluginProxy.Abstractions;
using PluginProxy.Http.Engine.H2.Upstream;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Http.H2.Upstream;

/// <summary>
/// The client-role HTTP/2 connection against a real server on a real socket: nghttpd (Debian nghttp2-server, h2c with
/// prior knowledge). It is installed by .ci/run: a missing one fails the test rather than skipping it.
/// </summary>
public class Http2ServerConnectionNghttpdTests
{
    [Fact]
    public async Task Nghttpd_ServesConcurrentGets_AndAPost()
    {
        string nghttpd = Tools.FindOnPath("nghttpd") ?? throw new InvalidOperationException("nghttpd is not installed (.ci/run installs nghttp2-server)");
        using var docs = new TempDirectory();
        byte[] big = Encoding.ASCII.GetBytes(new string('y', 500_000));
        await File.WriteAllBytesAsync(Path.Combine(docs.Path, "big.txt"), big);
        await File.WriteAllTextAsync(Path.Combine(docs.Path, "small.txt"), "small file\n");

        (Process process, int port) = await StartAsync(nghttpd, docs.Path);
        try
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(IPAddress.Loopback, port);
            using var transport = new SocketTransport(socket);
            var connection = new Http2ServerConnection(transport, new Http2UpstreamOptions { StreamWindow = 32768, ConnectionWindow = 65535 });
            Task run = Task.Run(connection.RunAsync);
            await connection.SettingsReceived.WaitAsync(TimeSpan.FromSeconds(10));

            string authority = $"127.0.0.1:{port}";
            var gets = new List<Task<(int Status, byte[] Body)>>();
            foreach (string path in new[] { "/big.txt", "/small.txt", "/big.txt", "/missing" })
            {
                Assert.True(connection.TryOpenStream(out Http2ClientStream stream));
                await stream.WriteRequestHeadAsync("GET", "http", authority, path, [new("user-agent", "pluginproxy-test")], endStream: true);
                gets.Add(Task.Run(async () =>
                {
                    using (stream)
                    {
                        Http2UpstreamResponse head = await stream.ReadResponseHeadAsync();
                        return (head.Status, await Http2ServerConnectionTests.ReadAllAsync(stream));
                    }
                }));
            }

            (int Status, byte[] Body)[] results = await Task.WhenAll(gets).WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Equal(200, results[0].Status);
            Assert.Equal(big, results[0].Body);
            Assert.Equal((200, "small file\n"), (results[1].Status, Encoding.ASCII.GetString(results[1].Body)));
            Assert.Equal(big, results[2].Body);
            Assert.Equal(404, results[3].Status);

            // nghttpd answers a POST to a file with the file; the request body (above the initial window) must go out whole first.
            Assert.True(connection.TryOpenStream(out Http2ClientStream post));
            await post.WriteRequestHeadAsync("POST", "http", authority, "/small.txt", [new("content-length", "200000")], endStream: false);
            await post.WriteDataAsync(new byte[200_000], endStream: true).AsTask().WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Equal(200, (await post.ReadResponseHeadAsync()).Status);
            Assert.Equal("small file\n", Encoding.ASCII.GetString(await Http2ServerConnectionTests.ReadAllAsync(post)));
            post.Dispose();

            connection.BeginShutdown();
            await run.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Null(connection.ErrorCode);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            process.Dispose();
        }
    }

    /// <summary>Starts nghttpd on a port the system chose a moment before (retried when another process took it meanwhile).</summary>
    private static async Task<(Process Process, int Port)> StartAsync(string nghttpd, string docs)
    {
        for (int attempt = 0; ; attempt++)
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            int port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            var start = new ProcessStartInfo(nghttpd) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string argument in new[] { "--no-tls", "-a", "127.0.0.1", "-d", docs, port.ToString() })
            {
                start.ArgumentList.Add(argument);
            }

            Process process = Process.Start(start)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            bool listening = false;
            await Wait.ForAsync(async () =>
            {
                if (process.HasExited)
                {
                    return true;
                }

                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    await socket.ConnectAsync(IPAddress.Loopback, port);
                    listening = true;
                    return true;
                }
                catch (SocketException)
                {
                    return false;
                }
            }, "nghttpd listening");
            if (listening)
            {
                return (process, port);
            }

            process.Dispose();
            if (attempt == 3)
            {
                throw new InvalidOperationException("nghttpd did not start");
            }
        }
    }
}
