using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Host.Tls;

namespace PluginProxy.Host.Backends;

/// <summary>
/// Connects to a server of a backend: picks one (or takes the one the caller picked), connects within
/// <c>timeout_connect</c>, and on refusal, reset or timeout tries another (all servers in turn, then again from the start;
/// the same one with <c>redispatch = false</c>) until <c>retries</c> more attempts were made, when <c>retry_on</c> has
/// <c>connect-failure</c> and the retry budget allows. Each failure counts for the server's passive health checks. Health checks connect through it too (<see cref="ConnectForCheckAsync"/>),
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
        if (backend.TryAcquireNow(selection, tried, out ServerLease next))
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
        RetryPolicy policy = backend.RetryPolicy;
        int retries = policy.Retries(RetryConditions.ConnectFailure) ? backend.Retries : 0;
        Server? previous = null;
        for (int attempt = 0; attempt <= retries; attempt++)
        {
            // The caller's pick is the first attempt, if it is still up: one pick per stream, so that a balancer's turn
            // is not spent twice and the server whose idle connections were looked at is the one connected to. With
            // redispatch = false a retry goes to the same server while it is eligible; a retry that moves to another
            // server takes a slot there (maxconn) when one is free, else tries the held server again.
            IServer? picked;
            if (attempt == 0 && first is Server { IsEligible: true })
            {
                picked = first;
            }
            else if (!policy.Redispatch && previous is { IsEligible: true })
            {
                picked = previous;
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

            bool retry = attempt > 0;
            if (retry && !backend.TryBeginRetry())
            {
                detail += $" (no retry: the retry budget of backend \"{backend.Name}\" is spent)";
                break;
            }

            long start = Stopwatch.GetTimestamp();
            (Transport? transport, SessionTermination failure, string? problem) = await AttemptAsync(backend, server, cancellationToken).ConfigureAwait(false);
            if (retry)
            {
                backend.EndRetry();
            }

            if (transport is not null)
            {
                return new ConnectResult(new TrackedServerConnection(transport, server), SessionTermination.Normal, failures, Stopwatch.GetElapsedTime(start), detail) { Lease = lease };
            }

            lastFailure = failure;
            detail = problem;
            server.ConnectionFailed();
            server.Passive.Failed(problem!);
            failures++;
            previous = server;
            (tried ??= new List<IServer>(backend.Servers.Count)).Add(server);
        }

        return new ConnectResult(null, lastFailure, Math.Max(0, failures - 1), TimeSpan.Zero, detail) { Lease = lease };
    }

    /// <summary>One connection attempt within <c>timeout_connect</c>: the transport, or why there is none.</summary>
    private async ValueTask<(Transport? Transport, SessionTermination Failure, string? Detail)> AttemptAsync(IBackend backend, Server server, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(backend.Timeouts.Connect);
        try
        {
            return (await OpenAsync(server, timeout.Token).ConfigureAwait(false), SessionTermination.Normal, null);
        }
        catch (Exception ex) when (server.Tls is not null && ex is AuthenticationException or IOException)
        {
            BackendLog.TlsHandshakeFailed(log, server, server.Tls.TargetHost, server.Tls.Verify, TlsTransport.DescribeFailure(ex));
            return (null, SessionTermination.ServerHandshakeFailed, $"{server}: TLS handshake with {server.Tls.TargetHost} failed: {TlsTransport.DescribeFailure(ex)}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, SessionTermination.ConnectTimeout, $"{server}: no answer within {backend.Timeouts.Connect.TotalMilliseconds:0}ms");
        }
        catch (SocketException ex)
        {
            return (null, SessionTermination.ServerRefused, $"{server}: {ex.SocketErrorCode}");
        }
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
        Transport transport = await OpenAsync(server, cancellationToken, forCheck: true).ConfigureAwait(false);
        return new CheckConnection(transport, server);
    }

    /// <summary>
    /// Connects to <paramref name="server"/> — to the next of its addresses in turn (<see cref="ServerAddresses"/>: one
    /// whose connect failed lately is skipped by traffic while another is left) — and completes its TLS handshake, if it
    /// has TLS; the socket is closed on failure.
    /// </summary>
    private static async Task<Transport> OpenAsync(Server server, CancellationToken cancellationToken, bool forCheck = false)
    {
        ServerAddresses addresses = server.AddressSet;
        IPEndPoint address = (forCheck ? addresses.NextForCheck() : addresses.Next()) ?? throw new SocketException((int)SocketError.HostNotFound);
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            try
            {
                await socket.ConnectAsync(address, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
            {
                addresses.Failed(address);
                throw;
            }

            addresses.Succeeded(address);
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
