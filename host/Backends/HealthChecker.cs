using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Backends;

/// <summary>
/// Runs the health checks of the backends that have a <c>check</c>: every <c>interval</c>, a TCP connect or an HTTP GET
/// per server; <c>fall</c> consecutive failures take a server down, <c>rise</c> consecutive successes bring it back.
/// A configuration reload stops these checks and starts those of the new configuration, which carry on from where
/// each kept server stood (<see cref="Progress"/>); a server of a backend without checks is always up.
/// </summary>
internal sealed class HealthChecker : IAsyncDisposable
{
    private readonly ILogger _log;
    // Never disposed: it has no timer, and a second DisposeAsync must still be able to see it cancelled.
    private readonly CancellationTokenSource _stop = new();
    private int _disposed;
    private readonly List<Task> _loops = [];
    private readonly Dictionary<Server, CheckProgress> _progress = [];

    /// <param name="carried">The progress of the checks of the previous configuration (stopped), by server.</param>
    public HealthChecker(BackendCatalog backends, ILogger log, IReadOnlyDictionary<Server, CheckProgress>? carried = null)
    {
        _log = log;
        foreach (Backend backend in backends.Backends)
        {
            if (backend.Check is not { } check)
            {
                BringUpUnchecked(backend);
                continue;
            }

            foreach (Server server in backend.ServerStates)
            {
                Start(server, check, carried?.GetValueOrDefault(server) ?? new CheckProgress());
            }
        }
    }

    /// <summary>Where each checked server's checks stand; complete once this checker is disposed.</summary>
    public IReadOnlyDictionary<Server, CheckProgress> Progress
    {
        get
        {
            lock (_loops)
            {
                return new Dictionary<Server, CheckProgress>(_progress);
            }
        }
    }

    /// <summary>Starts checking a server the runtime API added to <paramref name="backend"/>, if that backend has a check.</summary>
    public void Add(Server server, Backend backend)
    {
        if (backend.Check is { } check)
        {
            Start(server, check, new CheckProgress());
        }
    }

    private void Start(Server server, HealthCheckConfig check, CheckProgress progress)
    {
        lock (_loops)
        {
            if (_stop.IsCancellationRequested)
            {
                return;
            }

            _progress[server] = progress;
            _loops.Add(Task.Run(() => RunAsync(server, check, progress, _stop.Token)));
        }
    }

    /// <summary>A kept server that checks took down, in a backend that has no check any more: nothing else would bring it back.</summary>
    private void BringUpUnchecked(Backend backend)
    {
        foreach (Server server in backend.ServerStates.Where(s => !s.IsUp))
        {
            server.SetUp(true);
            server.LastCheckFailure = null;
            BackendLog.UpUnchecked(_log, server);
        }
    }

    private async Task RunAsync(Server server, HealthCheckConfig check, CheckProgress progress, CancellationToken stop)
    {
        try
        {
            // After a reload, keep the interval since the check the previous configuration made last.
            if (progress.DueIn(check.Interval) is { } wait && wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, stop).ConfigureAwait(false);
            }

            while (!stop.IsCancellationRequested && !server.Removed)
            {
                if (server.AdminState == ServerAdminState.Maint)
                {
                    // In maintenance the server is not checked: its health stays as the last checks left it.
                    await Task.Delay(check.Interval, stop).ConfigureAwait(false);
                    continue;
                }

                string? failure = await CheckOnceAsync(server, check, stop).ConfigureAwait(false);
                progress.LastCheckedAt = Environment.TickCount64;
                Count(server, check, progress, failure);
                await Task.Delay(check.Interval, stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopping: the checks end with the configuration that started them.
        }
    }

    private void Count(Server server, HealthCheckConfig check, CheckProgress progress, string? failure)
    {
        if (failure is null)
        {
            progress.Failures = 0;
            progress.Successes++;
            if (!server.IsUp && progress.Successes >= check.Rise)
            {
                server.SetUp(true);
                server.LastCheckFailure = null;
                BackendLog.Up(_log, server, progress.Successes);
            }
        }
        else
        {
            progress.Successes = 0;
            progress.Failures++;
            server.LastCheckFailure = failure;
            if (server.IsUp && progress.Failures >= check.Fall)
            {
                server.SetUp(false);
                BackendLog.Down(_log, server, progress.Failures, failure);
            }
        }
    }

    /// <summary>Returns null when the server passed, else why it failed.</summary>
    internal static async Task<string?> CheckOnceAsync(Server server, HealthCheckConfig check, CancellationToken stop)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(check.Timeout);
        var socket = new Socket(server.Address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Transport? connection = null;
        try
        {
            await socket.ConnectAsync(server.Address, timeout.Token).ConfigureAwait(false);
            // A TLS server passes a check only if its handshake (and verification) succeeds, as traffic would need.
            connection = server.Tls is { } tls ? await tls.HandshakeAsync(socket, timeout.Token).ConfigureAwait(false) : new SocketTransport(socket);
            if (check.Kind == HealthCheckKind.Tcp)
            {
                return null;
            }

            string host = check.Host ?? server.Address.ToString();
            byte[] request = Encoding.ASCII.GetBytes($"GET {check.Path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: PluginProxy-check\r\nConnection: close\r\n\r\n");
            await connection.SendAsync(request, timeout.Token).ConfigureAwait(false);
            var buffer = new byte[64];
            int filled = 0;
            while (filled < 12)
            {
                int n = await connection.ReceiveAsync(buffer.AsMemory(filled), timeout.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    return "connection closed before a status line";
                }

                filled += n;
            }

            // "HTTP/1.x NNN"
            string head = Encoding.ASCII.GetString(buffer, 0, filled);
            if (!head.StartsWith("HTTP/1.", StringComparison.Ordinal) || head[8] != ' ' || !int.TryParse(head.AsSpan(9, 3), out int status))
            {
                return "not an HTTP response";
            }

            return status is >= 200 and < 400 ? null : $"HTTP status {status}";
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            return $"no answer within {check.Timeout.TotalMilliseconds:0}ms";
        }
        catch (SocketException ex)
        {
            return ex.SocketErrorCode.ToString();
        }
        catch (Exception ex) when (ex is System.Security.Authentication.AuthenticationException or IOException)
        {
            return $"TLS: {TlsTransport.DescribeFailure(ex)}";
        }
        finally
        {
            connection?.Dispose();
            socket.Dispose();
        }
    }

    /// <summary>Stops the checks and waits for them to end; safe to call more than once.</summary>
    public async ValueTask DisposeAsync()
    {
        Task[] loops;
        lock (_loops)
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                _stop.Cancel();
            }

            loops = [.. _loops];
        }

        await Task.WhenAll(loops).ConfigureAwait(false);
    }
}
