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
/// until <c>retries</c> more attempts were made. Health checks connect through it too (<see cref="ConnectForCheckAsync"/>),
/// the same way, to one given server.
/// </summary>
internal sealed class ServerConnector(ILogger log) : IServerConnector
{
    public ValueTask<ConnectResult> ConnectAsync(IBackend backend, ServerSelection selection, CancellationToken cancellationToken) =>
        ConnectFirstAsync(backend, null, selection, cancellationToken);

    public ValueTask<ConnectResult> ConnectAsync(IBackend backend, IServer first, ServerSelection selection, CancellationToken cancellationToken) =>
        ConnectFirstAsync(backend, first, selection, cancellationToken);

    /// <summary>
    /// Connects to the lease's server first; a retry moves to another server only with a slot of its own (a server at its
    /// <c>maxconn</c> is passed over; with none free the held server is tried again), giving back the slot held before.
    /// </summary>
    public ValueTask<ConnectResult> ConnectAsync(IBackend backend, ServerLease lease, ServerSelection selection, CancellationToken cancellationToken) =>
        ConnectFirstAsync(backend, lease.Server, selection, cancellationToken, lease);

    /// <summary>The next server to try and the lease held for it: another server's slot when one is free, else the one held.</summary>
    private static (IServer? Server, ServerLease Lease) MoveLease(IBackend backend, ServerSelection selection, List<IServer>? tried, ServerLease lease)
    {
        if (backend is Backend host && host.TryAcquireNow(selection, tried, out ServerLease next))
        {
            lease.Release();
            return (next.Server, next);
        }

        return (lease.Server, lease);
    }

    private async ValueTask<ConnectResult> ConnectFirstAsync(IBackend backend, IServer? first, ServerSelection selection, CancellationToken cancellationToken,
        ServerLease lease = default)
    {
        List<IServer>? tried = null;
        int failures = 0;
        SessionTermination lastFailure = SessionTermination.NoServer;
        string? detail = null;
        for (int attempt = 0; attempt <= backend.Retries; attempt++)
        {
            // The caller's pick is the first attempt, if it is still up: one pick per stream, so that a balancer's turn
            // is not spent twice and the server whose idle connections were looked at is the one connected to.
            IServer? picked;
            if (attempt == 0 && first is Server { IsEligible: true })
            {
                picked = first;
            }
            else if (lease.IsHeld)
            {
                (picked, lease) = MoveLease(backend, selection, tried, lease);
            }
            else
            {
                picked = backend.PickServer(selection, tried);
            }

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
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(backend.Timeouts.Connect);
            try
            {
                Transport transport = await OpenAsync(server, timeout.Token).ConfigureAwait(false);
                return new ConnectResult(new TrackedServerConnection(transport, server), SessionTermination.Normal, failures, Stopwatch.GetElapsedTime(start), detail) { Lease = lease };
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

            server.ConnectionFailed();
            failures++;
            (tried ??= new List<IServer>(backend.Servers.Count)).Add(server);
        }

        return new ConnectResult(null, lastFailure, Math.Max(0, failures - 1), TimeSpan.Zero, detail) { Lease = lease };
    }

    /// <summary>
    /// Connects to <paramref name="server"/> for a health check, as traffic connects (same socket options, same TLS,
    /// ALPN and verification), whatever its health or admin state: a server that is down, drained or has weight 0 is
    /// checked all the same. The check is not traffic: it counts in <see cref="Server.Checks"/> only, never in the
    /// counts of connections, streams and failed connects, and a failure is not logged here (the check's result says it).
    /// No attempt is made on another server, and no timeout is added to <paramref name="cancellationToken"/>'s.
    /// </summary>
    /// <exception cref="SocketException">The connect failed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was signalled first.</exception>
    /// <exception cref="AuthenticationException">The TLS handshake failed (an <see cref="IOException"/> too, for some failures).</exception>
    public static async Task<ServerConnection> ConnectForCheckAsync(Server server, CancellationToken cancellationToken)
    {
        server.CheckStarted();
        Transport transport = await OpenAsync(server, cancellationToken).ConfigureAwait(false);
        return new CheckConnection(transport, server);
    }

    /// <summary>Connects to <paramref name="server"/> and completes its TLS handshake, if it has TLS; the socket is closed on failure.</summary>
    private static async Task<Transport> OpenAsync(Server server, CancellationToken cancellationToken)
    {
        var socket = new Socket(server.Address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(server.Address, cancellationToken).ConfigureAwait(false);
            return server.Tls is { } tls
                ? await tls.HandshakeAsync(socket, cancellationToken).ConfigureAwait(false)
                : new SocketTransport(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
