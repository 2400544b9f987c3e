using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using System.Text;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Options;

namespace PluginProxy.Https;

/// <summary>
/// The <c>https</c> protocol supervisor (the seed notes' "client-side HTTPS"): it completes the TLS handshake within
/// <c>timeout_client_hs</c>, with the certificate the client's server name (SNI) selects and ALPN, and only then hands the
/// session to the <c>http</c> supervisor, which reads and writes the decrypted stream. A client that fails the handshake
/// (plain HTTP or garbage on the port, an unknown name with <c>strict_sni</c>, an old TLS version, a stall) is closed and
/// its session line says why. The host loads the certificates (<see cref="TlsSettings"/>); the application protocols
/// offered by ALPN are this supervisor's own key, <c>tls.alpn</c> (<see cref="HttpsListenerOptions"/>).
/// </summary>
public sealed class HttpsSupervisor : IProtocolSupervisor, IListenerOptions
{
    private static readonly ServerOptionsSelectionCallback SelectCertificate = (_, hello, state, _) =>
        ((ListenerHandshake)state!).Select(hello.ServerName) is { } options
            ? ValueTask.FromResult(options)
            : ValueTask.FromException<SslServerAuthenticationOptions>(new AuthenticationException(
                string.IsNullOrEmpty(hello.ServerName)
                    ? "the client sent no server name (SNI) and strict_sni is on"
                    : $"no certificate for server name \"{hello.ServerName}\" and strict_sni is on"));

    private static readonly byte[] PlainHttpReply = Encoding.ASCII.GetBytes(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 50\r\nConnection: close\r\n\r\n" +
        "The plain HTTP request was sent to an HTTPS port.\n");

    private readonly ConditionalWeakTable<ListenerSettings, ListenerHandshake> _listeners = new();

    /// <summary>
    /// Waits for the client's first byte without taking it: a TLS handshake starts with 0x16, a plain HTTP request with
    /// the letters of a method.
    /// </summary>
    private static async ValueTask<bool> IsPlainHttpAsync(Socket socket, CancellationToken cancellationToken)
    {
        var first = new byte[1];
        int n = await socket.ReceiveAsync(first, SocketFlags.Peek, cancellationToken).ConfigureAwait(false);
        return n == 1 && first[0] is >= (byte)'A' and <= (byte)'Z';
    }

    /// <inheritdoc/>
    public string? Next => "http";

    /// <inheritdoc/>
    public IReadOnlyCollection<string> ListenerKeys => HttpsListenerOptions.ListenerKeys;

    /// <inheritdoc/>
    public IReadOnlyList<OptionError> CheckListener(ListenerSettings listener) => HandshakeOf(listener).Options.Errors;

    /// <summary>What the handshakes of a listener configuration share, made once per configuration: its options (<c>tls.alpn</c>) and its certificates offering its protocols.</summary>
    internal ListenerHandshake HandshakeOf(ListenerSettings listener) => _listeners.GetValue(listener, static l => new ListenerHandshake(l));

    /// <inheritdoc/>
    public bool TerminatesTls => true;

    /// <inheritdoc/>
    public async ValueTask RunAsync(ISession session)
    {
        if (session.Listener.Tls is null)
        {
            throw new InvalidOperationException($"listener {session.Listener.Name} has no [listener.tls]");
        }

        TlsTransport? transport = session.ResumedTls ?? await HandshakeAsync(session).ConfigureAwait(false);
        if (transport is null)
        {
            return;
        }

        try
        {
            await session.RunNextAsync(transport).ConfigureAwait(false);
        }
        finally
        {
            // Does nothing to a session the host parked: it keeps the TLS session for the client's next request.
            transport.Dispose();
        }
    }

    /// <summary>The TLS handshake of a new connection: its transport, or null when it failed (the session's log says why).</summary>
    private async ValueTask<TlsTransport?> HandshakeAsync(ISession session)
    {
        ListenerHandshake handshake = HandshakeOf(session.Listener);
        Socket socket = session.Connection.Socket;
        // Over a SocketStream, so that the host can park the connection with its TLS session while it idles.
        var inner = new SocketStream(socket);
        var stream = new SslStream(inner, leaveInnerStreamOpen: false);
        TimeSpan limit = session.Listener.Timeouts.ClientHandshake;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(session.Aborted))
        {
            timeout.CancelAfter(limit);
            try
            {
                if (await IsPlainHttpAsync(socket, timeout.Token).ConfigureAwait(false))
                {
                    // As nginx does: a readable answer for someone who typed http:// instead of https://.
                    await stream.DisposeAsync().ConfigureAwait(false);
                    session.Log.TrySetTermination(SessionTermination.HandshakeFailed, "a plain HTTP request on a TLS port; answered 400");
                    await socket.SendAsync(PlainHttpReply, SocketFlags.None, timeout.Token).ConfigureAwait(false);
                    await LingeringClose.DrainAsync(new SocketTransport(socket)).ConfigureAwait(false);
                    return null;
                }

                await stream.AuthenticateAsServerAsync(SelectCertificate, handshake, timeout.Token).ConfigureAwait(false);
                return new TlsTransport(inner, stream);
            }
            catch (Exception ex) when (ex is AuthenticationException or IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
                string reason = ex is OperationCanceledException && !session.Aborted.IsCancellationRequested
                    ? $"no TLS handshake within {limit.TotalMilliseconds:0}ms"
                    : $"TLS handshake failed: {TlsTransport.DescribeFailure(ex)}";
                session.Log.TrySetTermination(SessionTermination.HandshakeFailed, reason);
                return null;
            }
        }
    }
}
