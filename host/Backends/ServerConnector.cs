using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Host.Tls;

namespace PluginProxy.Host.Backends;

/// <summary>
/// Connects to a server of a backend: picks one (or takes the one the caller picked), connects within
/// <c>timeout_connect</c>, and on refusal, reset or timeout tries another (all servers in turn, then again from the start)
/// until <c>retries</c> more attempts were made.
/// </summary>
internal sealed class ServerConnector(ILogger log) : IServerConnector
{
    public ValueTask<ConnectResult> ConnectAsync(IBackend backend, ServerSelection selection, CancellationToken cancellationToken) =>
        ConnectFirstAsync(backend, null, selection, cancellationToken);

    public ValueTask<ConnectResult> ConnectAsync(IBackend backend, IServer first, ServerSelection selection, CancellationToken cancellationToken) =>
        ConnectFirstAsync(backend, first, selection, cancellationToken);

    private async ValueTask<ConnectResult> ConnectFirstAsync(IBackend backend, IServer? first, ServerSelection selection, CancellationToken cancellationToken)
    {
        List<IServer>? tried = null;
        int failures = 0;
        SessionTermination lastFailure = SessionTermination.NoServer;
        string? detail = null;
        for (int attempt = 0; attempt <= backend.Retries; attempt++)
        {
            // The caller's pick is the first attempt, if it is still up: one pick per stream, so that a balancer's turn
            // is not spent twice and the server whose idle connections were looked at is the one connected to.
            IServer? picked = attempt == 0 && first is Server { IsEligible: true } ? first : backend.PickServer(selection, tried);
            if (picked is null && tried is { Count: > 0 })
            {
                // Every usable server was tried once: go round again.
                tried.Clear();
                picked = backend.PickServer(selection, null);
            }

            if (picked is not Server server)
            {
                detail ??= $"backend \"{backend.Name}\" has no server up";
                break;
            }

            long start = Stopwatch.GetTimestamp();
            var socket = new Socket(server.Address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(backend.Timeouts.Connect);
            try
            {
                await socket.ConnectAsync(server.Address, timeout.Token).ConfigureAwait(false);
                Transport transport = server.Tls is { } tls
                    ? await tls.HandshakeAsync(socket, timeout.Token).ConfigureAwait(false)
                    : new SocketTransport(socket);
                return new ConnectResult(new TrackedServerConnection(transport, server), SessionTermination.Normal, failures, Stopwatch.GetElapsedTime(start), detail);
            }
            catch (Exception ex) when (server.Tls is not null && ex is AuthenticationException or IOException)
            {
                lastFailure = SessionTermination.ServerHandshakeFailed;
                detail = $"{server}: TLS handshake with {server.Tls.TargetHost} failed: {TlsTransport.DescribeFailure(ex)}";
                BackendLog.TlsHandshakeFailed(log, server, server.Tls.TargetHost, server.Tls.Verify, TlsTransport.DescribeFailure(ex));
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                lastFailure = SessionTermination.ConnectTimeout;
                detail = $"{server}: no answer within {backend.Timeouts.Connect.TotalMilliseconds:0}ms";
            }
            catch (SocketException ex)
            {
                lastFailure = SessionTermination.ServerRefused;
                detail = $"{server}: {ex.SocketErrorCode}";
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            socket.Dispose();
            server.ConnectionFailed();
            failures++;
            (tried ??= new List<IServer>(backend.Servers.Count)).Add(server);
        }

        return new ConnectResult(null, lastFailure, Math.Max(0, failures - 1), TimeSpan.Zero, detail);
    }
}
